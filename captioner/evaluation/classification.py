"""Using an activity classifier: top-k labels of clips, and its scores on one split of an activity set
(top-1, top-5, per-class accuracy, confusion matrix, every clip's prediction)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from captioner.base.errors import UsageError
from captioner.datasets.ucf101 import LabelSet
from captioner.features.clip_features import stack_clips
from captioner.features.encoder_spec import EncoderSpec
from captioner.features.features_for import split_features
from captioner.models.classifier_bundle import ClassifierBundle


def probabilities(model, features: np.ndarray) -> np.ndarray:
    """The classifier's (B, classes) softmax probabilities; Keras is imported here, on first use, so that an
    exported classifier's labeller (which never calls this) runs without it."""
    from captioner.models.classifier import probabilities as softmax_of

    return softmax_of(model, features)


class Labeller:
    """The classifier side of `classify` and `classify FOLDER --out`: features -> the k most likely classes."""

    verb = "classified"

    def __init__(self, bundle: ClassifierBundle, top_k: int = 1):
        self.bundle, self.frames, self.top_k = bundle, bundle.frames, min(top_k, len(bundle.classes))

    def top(self, features: np.ndarray) -> list[list[tuple[str, float]]]:
        features = np.asarray(features).astype(self.bundle.feature_dtype).astype(np.float32)
        return self.ranked(probabilities(self.bundle.model, features))

    def ranked(self, probs: np.ndarray) -> list[list[tuple[str, float]]]:
        """The `top_k` (class, probability) of each row of (B, classes) probabilities, most likely first."""
        order = np.argsort(-probs, axis=1, kind="stable")[:, :self.top_k]
        return [[(self.bundle.classes[j], float(p[j])) for j in row] for p, row in zip(probs, order)]

    def top_of_rows(self, rows: np.ndarray, counts: list[int]) -> list[list[tuple[str, float]]]:
        """`top` of each clip from its encoder output rows, `counts[i]` frames of clip i in order."""
        return self.top(stack_clips(rows, counts, self.frames))

    def records_of_rows(self, rows: np.ndarray, counts: list[int]) -> list[dict]:
        """`records` of each clip from its encoder output rows (see `top_of_rows`)."""
        return self.records_of(self.top_of_rows(rows, counts))

    def records(self, features: np.ndarray) -> list[dict]:
        return self.records_of(self.top(features))

    def records_of(self, tops: list[list[tuple[str, float]]]) -> list[dict]:
        out = []
        for ranked in tops:
            record = {"label": ranked[0][0], "probability": round(ranked[0][1], 4)}
            if self.top_k > 1:
                record["top"] = [{"label": c, "probability": round(p, 4)} for c, p in ranked]
            out.append(record)
        return out


@dataclass
class ClassReport:
    top1: float
    top5: float
    classes: list[str]
    per_class: dict[str, dict]  # class -> {"clips", "correct", "accuracy"}
    confusion: list[list[int]]  # [true class][predicted class], in `classes` order
    predictions: list[dict]  # per clip: clip, file, label, predicted, probability, top5
    split: str | None
    frames: int
    encoder: EncoderSpec
    skipped: int = 0
    training: dict = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float]:
        return {"top1": self.top1, "top5": self.top5}

    @property
    def items(self) -> list[dict]:
        """Per clip: clip, file, label, predicted, probability, top5."""
        return self.predictions

    def table(self) -> str:
        weights = "RANDOM (not ImageNet)" if self.encoder.is_random else self.encoder.weights
        k = min(5, len(self.classes))
        lines = [f"clips {len(self.predictions)} ({self.frames} frames each), classes {len(self.classes)}, "
                 f"split {self.split or 'all'}, encoder weights {weights}",
                 "| metric | score |", "| --- | --- |", f"| top-1 accuracy | {self.top1:.4f} |",
                 f"| top-{k} accuracy | {self.top5:.4f} |", "",
                 "| class | clips | correct | accuracy |", "| --- | --- | --- | --- |"]
        lines += [f"| {c} | {v['clips']} | {v['correct']} | "
                  + (f"{v['accuracy']:.4f} |" if v["accuracy"] is not None else "— |") for c, v in self.per_class.items()]
        lines += ["", "confusion (rows: true class, columns: predicted)",
                  "| | " + " | ".join(self.classes) + " |", "| --- |" + " --- |" * len(self.classes)]
        lines += [f"| {c} | " + " | ".join(str(n) for n in row) + " |" for c, row in zip(self.classes, self.confusion)]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"top1": self.top1, "top5": self.top5, "classes": self.classes, "per_class": self.per_class,
                "confusion": self.confusion, "split": self.split, "frames": self.frames,
                "encoder_weights": self.encoder.weights, "encoder": self.encoder.to_json(), "skipped_clips": self.skipped,
                "training": self.training, "predictions": self.predictions}


def evaluate_classifier(bundle: ClassifierBundle, labels: LabelSet, split: str | None, cache_dir: str,
                        weights: str | None = None, show_progress: bool = True) -> ClassReport:
    if labels.classes != bundle.classes:
        raise UsageError(f"{labels.root}: its classes {labels.classes} are not the model's {bundle.classes}")
    chosen = labels.select(split)
    if not chosen:
        raise UsageError(f"{labels.root}: no clips in split {split!r} ({labels.split_source})")
    keys, features, failed = split_features(cache_dir, bundle.encoder, sorted(chosen), labels.root, weights,
                                            show_progress, bundle.frames, labels.root, "clips")
    k = min(5, len(bundle.classes))
    ranked = Labeller(bundle, k).top(features)
    n = len(bundle.classes)
    confusion = np.zeros((n, n), dtype=int)
    predictions = []
    for key, top in zip(keys, ranked):
        truth, guess = labels.label(key), bundle.classes.index(top[0][0])
        confusion[truth, guess] += 1
        predictions.append({"input": key, "path": os.path.abspath(os.path.join(labels.root, key)),
                            "truth": chosen[key], "label": top[0][0], "probability": round(top[0][1], 4),
                            "top": [{"label": c, "probability": round(p, 4)} for c, p in top]})
    top5 = sum(p["truth"] in [t["label"] for t in p["top"]] for p in predictions) / len(predictions)
    per_class = {}
    for i, cls in enumerate(bundle.classes):
        total = int(confusion[i].sum())
        per_class[cls] = {"clips": total, "correct": int(confusion[i, i]),
                          "accuracy": round(float(confusion[i, i] / total), 4) if total else None}
    return ClassReport(float(np.trace(confusion) / len(predictions)), float(top5), bundle.classes, per_class,
                       confusion.tolist(), predictions, split, bundle.frames, bundle.encoder, failed,
                       bundle.training)
