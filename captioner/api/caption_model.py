"""A loaded caption model (image or clip): captions for inputs of any kind, and for a whole folder."""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from captioner.api.encoding import check_inputs, encoded
from captioner.api.engine_options import EngineOptions
from captioner.api.loaded_model import LoadedModel
from captioner.api.results import CaptionResult
from captioner.base.errors import UsageError
from captioner.inputs.gpu_decoding import gpu_decoder


class CaptionModel(LoadedModel):
    """A caption bundle with its encoder and compiled searches, kept between calls (make it with
    `captioner.load`). A clip model (`frames` > 0) takes clips: paths of videos or animated GIF/WebP, or
    sequences of frames."""

    def __init__(self, bundle, encoder_future, weights: str | None = None, compile_search: bool = True):
        super().__init__(bundle, encoder_future, weights)
        self.compile_search = compile_search
        self._captioners: dict[tuple, object] = {}  # settings -> Captioner
        self._gpu = gpu_decoder("auto")

    def __repr__(self) -> str:
        kind = f"clips of {self.frames} frames" if self.frames else "images"
        return f"<CaptionModel {self.directory!r}: {kind}, vocabulary {len(self.bundle.vocab)}>"

    def captioner(self, beam_size: int = 3, num_captions: int = 1, length_penalty: float = 0.0):
        """The search for these settings (a `Captioner`), made (and compiled, on first use) once per model."""
        from captioner.search.captioning import Captioner  # Keras: imported here, so an exported model needs none

        if num_captions > beam_size:
            raise UsageError(f"num_captions {num_captions} needs a beam_size of at least {num_captions}")
        if beam_size < 1:
            raise UsageError(f"beam_size must be at least 1, not {beam_size}")
        settings = (beam_size, num_captions, float(length_penalty))
        if settings not in self._captioners:
            self._captioners[settings] = Captioner(self.bundle.decoder, self.bundle.vocab, beam_size, num_captions,
                                                   length_penalty, feature_dtype=self.bundle.feature_dtype,
                                                   compiled=self.compile_search)
        return self._captioners[settings]

    def _captioner_for(self, beam_size, num_captions: int, length_penalty: float, batch_size: int):
        """The search `caption_stream` runs (an exported model's also takes the batch size)."""
        return self.captioner(beam_size, num_captions, length_penalty)

    def caption(self, inputs: Iterable, beam_size: int = 3, num_captions: int = 1, length_penalty: float = 0.0,
                batch_size: int = 32) -> list[CaptionResult]:
        """One `CaptionResult` per input, in order: `.caption`, `.log_prob`, `.captions` (the `num_captions` best,
        each `.text` and `.log_prob`), or `.error` (the reason, as the CLI gives it) for an input that cannot be
        read; a bad input does not fail the others.

        Inputs: paths (str or os.PathLike), PIL images, uint8 numpy arrays (H, W, 3) RGB, encoded image bytes; for
        a clip model, paths of clips, sequences of frames (a list of the above, or a uint8 array (T, H, W, 3)), or
        bytes of an animated GIF/WebP. `beam_size` 1 is greedy; `length_penalty` A ranks finished beams by
        log-probability / (words + 1) ** A. `batch_size` is images (or clip frames) per encoder batch.
        """
        return list(self.caption_stream(inputs, beam_size, num_captions, length_penalty, batch_size))

    def caption_stream(self, inputs: Iterable, beam_size: int = 3, num_captions: int = 1,
                       length_penalty: float = 0.0, batch_size: int = 32) -> Iterator[CaptionResult]:
        """`caption`, yielding each result as soon as its chunk of up to 256 inputs is done."""
        inputs = check_inputs(inputs)
        captioner = self._captioner_for(beam_size, num_captions, length_penalty, batch_size)
        for chunk in encoded(inputs, self.encoder, self.frames, batch_size, self._gpu):
            good = [rows for _, rows, reason in chunk if reason is None]
            ranked = iter(captioner.of_rows(np.concatenate(good), [len(r) for r in good]) if good else [])
            for name, _, reason in chunk:
                yield CaptionResult(name, error=reason) if reason is not None else CaptionResult(name, next(ranked))

    def caption_folder(self, folder: str, out: str, recursive: bool = False, beam_size: int = 3,
                       length_penalty: float = 0.0, cache: str | None = None, batch_size: int = 32,
                       resume: bool = False, html: str | None = None, engine: EngineOptions = EngineOptions(),
                       show_progress: bool = False):
        """Caption every image (clip, for a clip model) of `folder` exactly once into `out` (.jsonl, .csv or .json
        COCO results, by extension): streamed through a journal, made whole atomically; each unreadable file
        gets an `"error"` record. `resume` keeps what an earlier or interrupted run wrote; `cache` reads and adds
        features there; `html` also writes the report page. Returns the `FolderReport` (total, captioned, kept,
        failed, seconds; `.summary()`). Exactly what `captioner caption-folder` does."""
        from captioner.api.folders import caption_folder

        return caption_folder(self, folder, out, recursive, beam_size, length_penalty, cache, batch_size, resume,
                              html, engine, show_progress)
