"""Every metric of a model bundle on one split of a caption file, generated through the same search as `caption`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from captioner.base.errors import UsageError
from captioner.datasets import CaptionSet, resolve_clip, resolve_image
from captioner.datasets.coco_ids import coco_image_id
from captioner.evaluation.metrics import NAMES, SPICE_NOTE, score_captions
from captioner.features.encoder_spec import EncoderSpec
from captioner.features.features_for import split_features
from captioner.inputs.filetypes import looks_like_animation
from captioner.models.bundle import Bundle
from captioner.search.captioning import Captioner, describe_search


@dataclass
class EvalReport:
    scores: dict[str, float]  # bleu1..bleu4, rouge_l, cider, and meteor unless skipped
    images: int
    references: int
    beam_size: int
    split: str | None
    encoder: EncoderSpec
    items: list[dict]  # per image: image, file, caption, references, bleu4, rouge_l, cider (, meteor)
    skipped: int = 0  # images of the split that could not be read
    frames: int = 0  # 0: an image model; N: clips read as N frames
    meteor_skipped: str | None = None  # why METEOR is missing, when it is
    model: str = ""
    training: dict = field(default_factory=dict)  # the bundle's training summary (curves for the report)
    image_ids: dict[str, int] = field(default_factory=dict)  # COCO ids from the caption file, where it has them

    @property
    def metrics(self) -> dict[str, float]:
        """bleu1..bleu4, rouge_l, cider (and meteor unless skipped) over the split."""
        return self.scores

    def table(self) -> str:
        weights = "RANDOM (not ImageNet)" if self.encoder.is_random else self.encoder.weights
        what = f"clips {self.images} ({self.frames} frames each)" if self.frames else f"images {self.images}"
        lines = [f"{what}, references {self.references}, split {self.split or 'all'}, "
                 f"search {describe_search(self.beam_size)}, encoder weights {weights}",
                 "| metric | score |", "| --- | --- |"]
        lines += [f"| {label} | {self.scores[key]:.4f} |" for key, label in NAMES.items() if key in self.scores]
        if self.meteor_skipped:
            lines.append(f"METEOR skipped: {self.meteor_skipped}")
        return "\n".join(lines)

    def line(self) -> str:
        """Every metric on one line, for the demos."""
        return "  ".join(f"{label} {self.scores[key]:.4f}" for key, label in NAMES.items() if key in self.scores)

    def captions(self) -> list[tuple[str, str]]:
        """(image key, generated caption) in the report's order."""
        return [(item["input"], item["caption"]) for item in self.items]

    def to_json(self) -> dict:
        return {**self.scores, "meteor_skipped": self.meteor_skipped, "spice": SPICE_NOTE,
                "images": self.images, "references": self.references, "beam_size": self.beam_size,
                "split": self.split, "frames": self.frames, "encoder_weights": self.encoder.weights,
                "encoder": self.encoder.to_json(), "model": self.model, "training": self.training,
                "skipped_images": self.skipped, "captions": self.items}

    def coco_results(self) -> list[dict]:
        """The COCO caption results format: what pycocoevalcap's `COCO.loadRes` reads."""
        return [{"image_id": self.image_ids.get(item["input"], coco_image_id(item["input"])), "caption": item["caption"]}
                for item in self.items]


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
             length_penalty: float = 0.0, meteor: bool = True, captioner: Captioner | None = None) -> EvalReport:
    """`captioner`: a search already made for this bundle with these settings (the Python API's model keeps one)."""
    check_kind(bundle, captions)
    chosen = captions.select(split).captions
    if not chosen:
        raise UsageError(f"{captions.source}: no images in split {split!r} ({captions.describe_split()})")
    keys, features, failed = split_features(cache_dir, bundle.encoder, sorted(chosen), images_root, weights,
                                            show_progress, bundle.frames, captions.source,
                                            "clips" if bundle.frames else "images")
    captioner = captioner or Captioner(bundle.decoder, bundle.vocab, beam_size=beam_size,
                                       length_penalty=length_penalty, feature_dtype=bundle.feature_dtype)
    hypotheses = captioner.best(features)
    references = [chosen[k] for k in keys]
    scores = score_captions(references, hypotheses, meteor=meteor)
    resolve = resolve_clip if bundle.frames else resolve_image
    items = [{"input": k, "path": os.path.abspath(resolve(images_root, k)), "caption": h, "references": r,
              **{name: round(value, 4) for name, value in each.items()}}
             for k, h, r, each in zip(keys, hypotheses, references, scores.per_item)]
    return EvalReport(scores.corpus, len(keys), sum(len(r) for r in references), beam_size, split, bundle.encoder,
                      items, skipped=failed, frames=bundle.frames, meteor_skipped=scores.meteor_skipped,
                      model=bundle.directory, training=bundle.training, image_ids=captions.image_ids)
