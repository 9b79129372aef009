"""BLEU of a model bundle on one split of a caption file, generated through the same search as `caption`."""

from __future__ import annotations

from dataclasses import dataclass

from captioner.bundle import Bundle
from captioner.captioning import Captioner, describe_search
from captioner.datasets import CaptionSet
from captioner.errors import UsageError
from captioner.filetypes import looks_like_animation
from captioner.clip_features import cached_inputs
from captioner.features_for import prepared_cache
from captioner.metrics import corpus_bleu_scores, sentence_bleu4
from captioner.report import skipped


@dataclass
class EvalReport:
    bleu: dict[str, float]
    images: int
    references: int
    beam_size: int
    split: str | None
    encoder: dict
    per_image: list[tuple[str, str, float]]  # (image key, generated caption, smoothed sentence BLEU-4)
    skipped: int = 0  # images of the split that could not be read
    frames: int = 0  # 0: an image model; N: clips read as N frames

    def table(self) -> str:
        weights = "RANDOM (not ImageNet)" if self.encoder["weights"] == "random" else self.encoder["weights"]
        what = f"clips {self.images} ({self.frames} frames each)" if self.frames else f"images {self.images}"
        lines = [f"{what}, references {self.references}, split {self.split or 'all'}, "
                 f"search {describe_search(self.beam_size)}, encoder weights {weights}",
                 "| metric | score |", "| --- | --- |"]
        lines += [f"| BLEU-{n} | {self.bleu[f'bleu{n}']:.4f} |" for n in range(1, 5)]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {**self.bleu, "images": self.images, "references": self.references, "beam_size": self.beam_size,
                "split": self.split, "frames": self.frames, "encoder_weights": self.encoder["weights"], "encoder": self.encoder,
                "captions": [{"image": k, "caption": c, "sentence_bleu4": round(b, 4)} for k, c, b in self.per_image]}


def check_kind(bundle: Bundle, captions: CaptionSet) -> None:
    """Refuse a caption file of the other kind before any work (animated GIF/WebP names fit either)."""
    if captions.kind == "clip" and not bundle.frames:
        raise UsageError(f"{captions.source}: names video clips; the model {bundle.directory} describes images "
                         "(train a clip model on this file)")
    if bundle.frames and captions.kind == "image" and not any(looks_like_animation(k) for k in captions.captions):
        raise UsageError(f"{captions.source}: names images; the model {bundle.directory} describes "
                         f"{bundle.takes} (train an image model on this file)")


def evaluate(bundle: Bundle, captions: CaptionSet, split: str | None, images_root: str, cache_dir: str,
             beam_size: int = 1, weights: str | None = None, show_progress: bool = True,
             length_penalty: float = 0.0) -> EvalReport:
    check_kind(bundle, captions)
    chosen = captions.select(split).captions
    if not chosen:
        raise UsageError(f"{captions.source}: no images in split {split!r} ({captions.describe_split()})")
    cache, keys, failed = prepared_cache(cache_dir, bundle.encoder, sorted(chosen), images_root, weights,
                                         show_progress, bundle.frames)
    with cache:
        for path, reason in failed:
            skipped(path, reason)
        if not keys:
            raise UsageError(f"{captions.source}: none of the {len(chosen)} images could be read")
        features = cached_inputs(cache, keys, bundle.frames)
    captioner = Captioner(bundle.decoder, bundle.vocab, beam_size=beam_size, length_penalty=length_penalty,
                          feature_dtype=bundle.feature_dtype)
    hypotheses = captioner.best(features)
    references = [chosen[k] for k in keys]
    per_image = [(k, h, sentence_bleu4(r, h)) for k, h, r in zip(keys, hypotheses, references)]
    return EvalReport(corpus_bleu_scores(references, hypotheses), len(keys), sum(len(r) for r in references),
                      beam_size, split, bundle.encoder, per_image, skipped=len(failed), frames=bundle.frames)
