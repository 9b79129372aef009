"""A model written by `captioner export` (.onnx, .tflite), loaded by `captioner.load` in place of a bundle: the
same `caption`, `caption_stream` and `caption_folder` as a `CaptionModel`, run by ONNX Runtime or LiteRT without
Keras or TensorFlow. The search is the one inside the file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from captioner.api.caption_model import CaptionModel
from captioner.base.errors import UsageError
from captioner.features.encoder_spec import EncoderSpec
from captioner.runtime.exported_model import ExportedModel
from captioner.search.caption import Caption
from vocab import Vocabulary


@dataclass(frozen=True)
class ExportedBundle:
    """What the folder job and the report page read of a model: here, of the exported file."""

    directory: str  # the exported file
    encoder: EncoderSpec
    vocab: Vocabulary
    fixed_beam: int  # the search inside the file: 1 greedy, else its beam size
    frames: int = 0
    training: dict = field(default_factory=dict)


class PixelPassThrough:
    """The "encoder" of an exported model: decoded pixels go to the file as they are (its encoder is inside)."""

    def __init__(self, input_size: int):
        self.input_size = input_size

    def encode(self, batch) -> np.ndarray:
        return np.asarray(batch, dtype=np.uint8)


class ExportedCaptioner:
    """The exported search with a caller's ranking: uint8 pixel rows -> captions, best first (the `Captioner`
    methods the API and the folder job call)."""

    def __init__(self, exported: ExportedModel, num_captions: int, length_penalty: float, batch_size: int = 32):
        self.exported, self.num_captions, self.length_penalty = exported, num_captions, length_penalty
        self.batch_size = batch_size  # images (clips) per run of the file
        self.frames = exported.info.frames

    def of_rows(self, rows: np.ndarray, counts: list[int]) -> list[list[Caption]]:
        """One image a row, or `counts[i]` frames of clip i in order."""
        if self.frames:
            return self.exported.clip_captions(rows, counts, self.num_captions, self.length_penalty, self.batch_size)
        return self.exported.captions(rows, self.num_captions, self.length_penalty, self.batch_size)

    def records_of_rows(self, rows: np.ndarray, counts: list[int]) -> list[dict]:
        """caption-folder's record of each input."""
        return [{"caption": ranked[0].text} for ranked in self.of_rows(rows, counts)]


def refuse_feature_cache(model_file: str, cache: str | None) -> None:
    """An exported model reads pixels: a feature cache given to its folder job is refused, not ignored."""
    if cache is not None:
        raise UsageError(f"{model_file}: an exported model reads pixels, not cached features; leave --cache out")


class Ready:
    """A future already done: what `LoadedModel` reads its encoder from."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class ExportedCaptionModel(CaptionModel):
    """`captioner.load("model.onnx")`. `beam_size` may be left out (None: the file's search) and is refused if it
    differs from the file's; `num_captions` up to the file's beam size; `length_penalty` re-ranks its beams."""

    def __init__(self, path):
        """`path`: the exported file, or its `ExportedModel` already opened."""
        self.exported = path if isinstance(path, ExportedModel) else ExportedModel(path)
        info = self.exported.info
        bundle = ExportedBundle(self.exported.path, info.encoder, self.exported.vocab, info.beam_size, info.frames)
        super().__init__(bundle, Ready(PixelPassThrough(info.input_size)), None, compile_search=False)
        self._gpu = None  # pixels stay on the host: the runtime takes numpy arrays

    def __repr__(self) -> str:
        return (f"<ExportedCaptionModel {self.directory!r}: {self.exported.info.takes}, {self.exported.runtime}, "
                f"{self.exported.info.describe_search()} search, vocabulary {len(self.exported.vocab)}>")

    @property
    def runtime(self) -> str:
        """"onnx" (ONNX Runtime) or "litert"."""
        return self.exported.runtime

    def captioner(self, beam_size: int | None = None, num_captions: int = 1, length_penalty: float = 0.0,
                  batch_size: int = 32) -> ExportedCaptioner:
        self.exported.check_search(beam_size, num_captions)
        return ExportedCaptioner(self.exported, num_captions, float(length_penalty), batch_size)

    def _captioner_for(self, beam_size, num_captions: int, length_penalty: float, batch_size: int):
        return self.captioner(beam_size, num_captions, length_penalty, batch_size)

    def caption(self, inputs, beam_size: int | None = None, num_captions: int = 1, length_penalty: float = 0.0,
                batch_size: int = 32):
        return super().caption(inputs, beam_size, num_captions, length_penalty, batch_size)

    def caption_stream(self, inputs, beam_size: int | None = None, num_captions: int = 1, length_penalty: float = 0.0,
                       batch_size: int = 32):
        return super().caption_stream(inputs, beam_size, num_captions, length_penalty, batch_size)

    def caption_folder(self, folder: str, out: str, recursive: bool = False, beam_size: int | None = None,
                       length_penalty: float = 0.0, cache: str | None = None, batch_size: int = 32,
                       resume: bool = False, html: str | None = None, engine=None, show_progress: bool = False):
        refuse_feature_cache(self.directory, cache)
        if engine is not None and engine.engine != "local":
            raise UsageError(f"{self.directory}: an exported model runs in this process; leave --engine out")
        self.exported.check_search(beam_size, 1)
        return super().caption_folder(folder, out, recursive, None, length_penalty, None, batch_size, resume, html,
                                      show_progress=show_progress)
