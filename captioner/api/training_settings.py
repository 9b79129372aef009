"""What a training job is asked: one frozen settings object per job, built once (by `captioner train` from its
flags, or by a caller) and passed whole to `train_captions`, `train_classifier` or `fine_tune`.

Every choice left as None takes its default on a new run and the run's own value on a resumed one (`resume`);
`epochs`, `patience` and `learning_rate` may change between sessions of one run, any other choice asked with
another value than the run's is refused (training/resume.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from captioner.base.errors import UsageError


@dataclass(frozen=True)
class _Training:
    seed: int | None = None  # shuffling, dropout, the initial weights (default 0)
    epochs: int | None = None  # a cap: early stopping ends training (default 200)
    patience: int | None = None  # epochs without a better validation measure before stopping (3; 8 with its own CNN)
    batch_size: int | None = None  # captions per step (128); clips for a classifier (128, 16 with its own CNN)
    learning_rate: float | None = None  # Adam's (3e-3; 2e-4 for fine-tuning)


@dataclass(frozen=True)
class _ModelTraining(_Training):
    weights: str | None = None  # the VGG16 encoder's: "imagenet" (default), "random", "random-tiny" or a file
    encoder_seed: int | None = None  # the seed of a random encoder's weights (default 0)
    precision: str | None = None  # the encoder's: "fp32" (default), "bf16" or "fp16"
    frames: int | None = None  # frames read per clip: makes a clip model (default 16 for a file naming clips)
    frame_encoder: str | None = None  # "lstm" (default) over the frame vectors, "mean", or "cnn": its own CNN
    frame_size: int | None = None  # frame_encoder "cnn": frames as S x S pixels (default 64)
    cnn: dict | None = None  # frame_encoder "cnn": its sizes, of filters (16), blocks (3), dense (64)
    units: int | None = None  # LSTM units (default 256)
    dropout: float | None = None  # (default 0.3)
    summary: bool = False  # print the model's layers before training


@dataclass(frozen=True)
class CaptionTraining(_ModelTraining):
    """How to train a caption decoder (images, or clips of `frames` frames)."""

    embed_dim: int | None = None  # word embedding size (default 256)
    design: str | None = None  # "inject" (default: the image is the LSTM's first input) or "merge"
    min_count: int | None = None  # words seen fewer times in the train split become <unk> (default 1)
    max_length: int | None = None  # words per caption (default: the train captions' 99th percentile)
    label_smoothing: float | None = None  # share of each target word's probability spread over the vocabulary (0)
    stop_on: str | None = None  # what picks the best epoch: validation "loss" (default) or greedy "cider"


@dataclass(frozen=True)
class ClassifierTraining(_ModelTraining):
    """How to train an activity classifier on clips of `frames` frames (default 16)."""


@dataclass(frozen=True)
class FineTuning(_Training):
    """How to fine-tune the caption model `init` by self-critical training (CIDEr-D as the reward); its sizes,
    vocabulary and encoder are kept. `batch_size` is images per step (default 32); early stopping is on
    validation CIDEr-D with the default search (beam 3)."""

    init: str | None = None  # the trained caption model to start from (the resumed run's own on resume)
    weights: str | None = None  # only for an init model trained with a local weights file
    samples: int | None = None  # captions sampled per image (default 5)
    baseline: str | None = None  # "mean" (default: the other samples' mean reward) or "greedy"


def settings_from_options(options: dict, labels: bool) -> CaptionTraining | ClassifierTraining | FineTuning:
    """The settings object for the keyword options of `captioner.train` (`objective="cider"` fine-tunes), each
    option checked to belong to that job."""
    options = dict(options)
    objective = options.pop("objective", "xe")
    if objective not in ("xe", "cider"):
        raise UsageError(f"objective {objective!r}: xe or cider")
    kind = FineTuning if objective == "cider" else ClassifierTraining if labels else CaptionTraining
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(options) - known)
    if unknown:
        job = {FineTuning: "fine-tuning (objective cider)", ClassifierTraining: "an activity classifier",
               CaptionTraining: "a caption model"}[kind]
        raise UsageError(f"{', '.join(unknown)}: not a choice when training {job} (its choices: "
                         f"{', '.join(sorted(known))})")
    return kind(**options)
