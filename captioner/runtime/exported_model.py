"""An exported model, ready to run: uint8 pixels in; ranked captions out (its search runs inside the file; the
ranking by length penalty and the words are done here), or an activity classifier's probabilities."""

from __future__ import annotations

import numpy as np

from captioner.base.errors import UsageError
from captioner.runtime.export_info import CAPTION, ExportError, ExportInfo
from captioner.runtime.sessions import open_exported
from captioner.search.caption import Caption
from captioner.search.ranking import best_captions
from vocab import Vocabulary, VocabularyError

# Images per run of the exported graph (its memory grows with the batch: VGG16's activations, ~100 MB an image)
RUN_BATCH = 32


class ExportedModel:
    """`ExportedModel("model.onnx")`: `captions(pixels)` for (B, S, S, 3) uint8 RGB images squashed to
    `input_size` (what `captioner.inputs` decodes); for a clip model (`info.frames` N), (B, N, S, S, 3) clips and
    each clip's frame count (its real frames first, zeros after); `probabilities(clips, counts)` for an exported
    classifier. Raises `ExportError` for a file that is not a complete captioner export, `UsageError` when its
    runtime is not installed."""

    def __init__(self, path: str):
        self.session = open_exported(str(path))
        self.path = str(path)
        self.info: ExportInfo = self.session.info
        self.vocab = None
        if self.info.kind == CAPTION:
            try:
                self.vocab = Vocabulary(list(self.info.vocabulary))
            except VocabularyError as exc:
                raise ExportError(f"{path}: captioner metadata: {exc}") from None

    @property
    def runtime(self) -> str:
        return self.session.runtime

    @property
    def input_size(self) -> int:
        return self.info.input_size

    def check_search(self, beam_size: int | None, num_captions: int) -> None:
        """The search is inside the file: a different one asked for is refused with what to do."""
        exported = self.info.beam_size
        if beam_size is not None and beam_size != exported:
            raise UsageError(f"{self.path}: exported with {self.info.describe_search()} search, which is inside the "
                             f"file; leave --beam-size out, or export again with "
                             f"{'--search greedy' if beam_size == 1 else f'--search beam --beam-size {beam_size}'}")
        if num_captions > exported:
            raise UsageError(f"{self.path}: exported with {self.info.describe_search()} search: at most "
                             f"{exported} caption{'s' if exported > 1 else ''} per image, not {num_captions}")

    def run(self, pixels: np.ndarray, counts=None, batch_size: int = RUN_BATCH) -> tuple[np.ndarray, ...]:
        """The file's outputs for `pixels` (and a clip model's frame `counts`), `batch_size` inputs a run."""
        pixels = np.asarray(pixels, dtype=np.uint8)
        size, frames = self.info.input_size, self.info.frames
        shape = (frames, size, size, 3) if frames else (size, size, 3)
        if pixels.ndim != len(shape) + 1 or pixels.shape[1:] != shape:
            raise UsageError(f"{self.path}: takes (B, {', '.join(map(str, shape))}) uint8 pixels, got {pixels.shape}")
        if frames:
            counts = np.asarray(counts if counts is not None else [frames] * len(pixels), dtype=np.int32)
        parts = [self.session.run(pixels[start:start + batch_size],
                                  counts[start:start + batch_size] if frames else None)
                 for start in range(0, len(pixels), batch_size)]
        if not parts:
            if self.info.kind == CAPTION:
                k = self.info.beam_size
                return np.zeros((0, k, self.info.max_length + 2), np.int32), np.zeros((0, k), np.float32)
            return (np.zeros((0, len(self.info.classes)), np.float32),)
        return tuple(np.concatenate([np.asarray(part[i]) for part in parts]) for i in range(len(parts[0])))

    def stacked(self, rows: np.ndarray, counts: list[int]) -> np.ndarray:
        """Clips given as their frames one after another (`counts[i]` frames of clip i, at most `info.frames`, as
        `captioner.inputs` samples them) -> (B, N, S, S, 3), zeros after each clip's frames."""
        clips = np.zeros((len(counts), self.info.frames, *rows.shape[1:]), np.uint8)
        start = 0
        for i, count in enumerate(counts):
            clips[i, :count] = rows[start:start + count]
            start += count
        return clips

    def captions(self, pixels: np.ndarray, num_captions: int = 1, length_penalty: float = 0.0,
                 batch_size: int = RUN_BATCH, counts=None) -> list[list[Caption]]:
        """For each image (clip), its `num_captions` best captions, best first."""
        tokens, log_probs = self.run(pixels, counts, batch_size)
        return [[Caption(self.vocab.decode(seq), logp) for seq, logp in best_captions(beams, logps, num_captions,
                                                                                       length_penalty)]
                for beams, logps in zip(tokens, log_probs)]

    def clip_captions(self, rows: np.ndarray, counts: list[int], num_captions: int = 1, length_penalty: float = 0.0,
                      batch_size: int = RUN_BATCH) -> list[list[Caption]]:
        """`captions` of clips given as their frames one after another (see `stacked`)."""
        return self.captions(self.stacked(rows, counts), num_captions, length_penalty, batch_size, counts)

    def probabilities(self, rows: np.ndarray, counts: list[int], batch_size: int = RUN_BATCH) -> np.ndarray:
        """(B, classes) of an exported classifier, for clips given as their frames one after another."""
        probabilities, = self.run(self.stacked(rows, counts), counts, batch_size)
        return probabilities
