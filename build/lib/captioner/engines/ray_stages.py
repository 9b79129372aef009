"""What Ray runs on its workers: decoding as CPU tasks, the encoder (and caption search) in an actor pool.

A Ray Data row is one file: key, path, frames (0 for an image). Pixels and features travel as bytes so that an
image (one frame) and a clip (N frames) fit the same column, and a clip never straddles two batches.
Nothing here writes: the driver alone commits to the cache and the results journal.
"""

from __future__ import annotations

import json

import numpy as np

from captioner.features.extraction import decode_item
from captioner.inputs.images import ImageFile


def files_of(batch: dict) -> list[ImageFile]:
    return [ImageFile(str(k), str(p), int(f)) for k, p, f in zip(batch["key"], batch["path"], batch["frames"])]


def decode_files(batch: dict, size: int) -> dict:
    """CPU task: each file's (frames, size, size, 3) uint8 pixels as bytes, or its error (count 0)."""
    pixels, counts, errors = [], [], []
    for item in files_of(batch):
        _, arr, reason = decode_item(item, size)
        pixels.append(arr.tobytes() if reason is None else b"")
        counts.append(0 if reason is not None else len(arr))
        errors.append(reason or "")
    return {"key": batch["key"], "count": np.array(counts), "pixels": _objects(pixels), "error": _objects(errors)}


class EncodeFiles:
    """Actor: VGG16 built once, then each batch's frames encoded in one forward pass."""

    def __init__(self, weights: str, seed: int, precision: str, feature_dtype: str | None = "float32"):
        from captioner.features.encoder import Encoder

        self.encoder = Encoder(weights, seed, precision)
        # Vectors travel in the dtype the driver stores them in (the cache's): float16 halves the traffic, and
        # rounding here or on the driver gives the same bits. None: the driver keeps no vectors.
        self.feature_dtype = np.dtype(feature_dtype) if feature_dtype else None

    def __call__(self, batch: dict) -> dict:
        features, counts = self.encode(batch)
        return self.output(batch, features, counts, self.feature_dtype)

    def encode(self, batch: dict) -> tuple[np.ndarray | None, list[int]]:
        """(frames, D) float32 of the decoded files in order (None when there are none), and their counts."""
        size = self.encoder.input_size
        counts = [int(c) for c in batch["count"] if c > 0]
        frames = [np.frombuffer(p, np.uint8).reshape(c, size, size, 3)
                  for p, c in zip(batch["pixels"], batch["count"]) if c > 0]
        return (self.encoder.encode(np.concatenate(frames)) if frames else None), counts

    @staticmethod
    def output(batch: dict, features, counts: list[int], dtype: np.dtype | None, records: list[dict] | None = None
               ) -> dict:
        """Per file: features as `dtype` bytes (none when `dtype` is None or the file failed), and a JSON
        record where made."""
        rows = np.cumsum([0] + counts)
        good = iter(range(len(counts)))
        out_features, out_records = [], []
        for count in batch["count"]:
            if count > 0:
                i = next(good)
                out_features.append(features[rows[i]:rows[i + 1]].astype(dtype).tobytes() if dtype is not None
                                    else b"")
                out_records.append(json.dumps(records[i]) if records is not None else "")
            else:
                out_features.append(b"")
                out_records.append("")
        return {"key": batch["key"], "count": batch["count"], "error": batch["error"],
                "features": _objects(out_features), "record": _objects(out_records)}


class CaptionFiles(EncodeFiles):
    """Actor: encoder + a caption model's search; features come back too when the driver keeps a cache
    (`feature_dtype` its dtype, None without one)."""

    def __init__(self, weights: str, seed: int, precision: str, model: str, beam_size: int, length_penalty: float,
                 feature_dtype: str | None):
        from captioner.models.bundle import load_bundle
        from captioner.search.captioning import Captioner

        super().__init__(weights, seed, precision, feature_dtype)
        bundle = load_bundle(model)
        self.captioner = Captioner(bundle.decoder, bundle.vocab, beam_size, 1, length_penalty,
                                   feature_dtype=bundle.feature_dtype)

    def __call__(self, batch: dict) -> dict:
        from captioner.features.clip_features import stack_clips

        features, counts = self.encode(batch)
        records = self.captioner.records(stack_clips(features, counts, self.captioner.frames)) if counts else []
        return self.output(batch, features, counts, self.feature_dtype, records)


def _objects(values: list) -> np.ndarray:
    """A 1-D object array (np.array would turn equal-length bytes into a fixed-width dtype, or a list into 2-D)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
