"""What the batcher's worker does with a batch: encode every item's pixels, then one search (or one classifier
call) for all of them — the same steps as `CaptionModel.caption` / `ClassifierModel.classify` — and, to warm
the server up, the same calls on blanks at every batch shape a request can meet."""

from __future__ import annotations

import threading
import time

import numpy as np


# Most rows per encoder call: a batch of 32 clips of 8 frames is 256 VGG16 inputs, too many activations at once.
ENCODE_ROWS = 32


class ModelCalls:
    """`calls(key, pixels)`: [(k_i, S, S, 3) uint8] -> one answer per item. Subclasses say what the answer is."""

    def __init__(self, model, metrics=None):
        self.model, self.metrics = model, metrics  # metrics: a ServerMetrics, told each call's size and seconds
        # One call at a time: the batcher's and the warm-up's (after ready) would otherwise run the model in two
        # threads, which JAX does not allow (a compiled call may donate the weights' buffers the other reads).
        self.lock = threading.Lock()

    def __call__(self, key, pixels: list[np.ndarray]) -> list:
        rows = np.concatenate(pixels)
        with self.lock:
            start = time.perf_counter()
            features = np.concatenate([self.model.encoder.encode(rows[first:stop])
                                       for first, stop in power_of_two_slices(len(rows), ENCODE_ROWS)])
            encoded = time.perf_counter()
            answers = self.decide(key, features, [len(p) for p in pixels])
        if self.metrics is not None:
            self.metrics.batch(len(pixels))
            self.metrics.stage("encode", encoded - start)
            self.metrics.stage("search", time.perf_counter() - encoded)
        return answers

    def decide(self, key, rows: np.ndarray, counts: list[int]) -> list:
        """One answer per item from the encoder's rows (`counts[i]` rows of item i: 1 for an image)."""
        raise NotImplementedError

    def warm_up(self, key, max_batch: int, smallest: int = 1, stopped=lambda: False) -> bool:
        """Compile what requests will meet: the encoder and the search pad batches to powers of two, so each
        power from `smallest` up to the largest batch is run once (on blanks); a request then pays for no
        compile. `stopped()` is asked before each shape (the server is shutting down): False when it stopped
        the warm-up early."""
        encoder, frames = self.model.encoder, self.model.frames
        size = encoder.input_size
        with self.lock:  # a shape at a time: a request waits for one compile at most
            row = encoder.encode(np.zeros((1, size, size, 3), np.uint8))  # one row: the features' shape and dtype
        for rows in _powers_of_two(min(ENCODE_ROWS, max_batch * max(1, frames))):
            if stopped():
                return False
            if rows >= max(smallest, 2):
                with self.lock:
                    encoder.encode(np.zeros((rows, size, size, 3), np.uint8))
        for items in _powers_of_two(max_batch):
            if stopped():
                return False
            if items >= smallest:
                with self.lock:
                    counts = [max(1, frames)] * items
                    self.decide(key, np.zeros((sum(counts), *row.shape[1:]), row.dtype), counts)
        return True


class CaptionCalls(ModelCalls):
    """key (beam_size, num_captions, length_penalty) -> per item its captions (`Caption`s), best first."""

    def decide(self, key, rows, counts):
        return self.model.captioner(*key).of_rows(rows, counts)


class LabelCalls(ModelCalls):
    """key top_k -> per clip [(label, probability)], most likely first."""

    def decide(self, key, rows, counts):
        return self.model.labeller(key).top_of_rows(rows, counts)


def power_of_two_slices(rows: int, limit: int) -> list[tuple[int, int]]:
    """(start, stop) slices of `rows` whose sizes are powers of two up to `limit`, largest first: 25 rows are
    16 + 8 + 1. The encoder pads a batch to the next power of two, so a batch of 25 sent whole would cost 32 —
    a quarter of VGG16's time spent on blank images (measured: batches of 17-25 made the server 0.79x as fast
    as caption-folder on the CPU)."""
    out, start = [], 0
    while start < rows:
        size = min(limit, 1 << ((rows - start).bit_length() - 1))
        out.append((start, start + size))
        start += size
    return out


def _powers_of_two(limit: int) -> list[int]:
    """1, 2, 4, ... up to the first power of two >= limit."""
    out = [1]
    while out[-1] < limit:
        out.append(out[-1] * 2)
    return out
