"""Training the activity classifier on cached frame vectors: the caption trainer's machinery (checkpoint per
epoch, early stopping on validation loss, `--resume` from the last finished epoch with the same batches), with
class labels for targets and validation top-1 accuracy recorded every epoch."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict

import numpy as np

from captioner.base.atomic import write_json
from captioner.base.backend import import_keras
from captioner.base.errors import UsageError
from captioner.datasets.ucf101 import LabelSet
from captioner.features.clip_features import cached_inputs, frame_sample
from captioner.features.features_for import prepared_cache
from captioner.features.notices import skipped
from captioner.models.classifier import ClassifierConfig, build_classifier, probabilities
from captioner.models.classifier_bundle import save_classifier_bundle
from captioner.training.checkpoints import Checkpointer, earlier_state, fresh_state
from captioner.training.train import TrainSettings
from captioner.training.training_data import ShuffledBatches

keras = import_keras()


class ClipBatches(ShuffledBatches):
    """(features (B, N, D), labels (B,)), in the caption trainer's resumable shuffled order."""

    def __init__(self, features: np.ndarray, labels: np.ndarray, batch_size: int, seed: int | None = None,
                 epoch: int = 0):
        super().__init__(len(labels), batch_size, seed, epoch)
        self.features, self.labels = features, labels

    def __getitem__(self, index: int):
        chosen = self.chosen(index)
        return self.features[chosen], self.labels[chosen]


def train_classifier(labels: LabelSet, cache_dir: str, out_dir: str, fingerprint: dict, weights: str | None,
                     settings: TrainSettings, frames: int, frame_encoder: str = "lstm", units: int = 256,
                     dropout: float = 0.3, resume: bool = False, show_progress: bool = True) -> dict:
    """Train and write the classifier bundle to `out_dir`; returns the training summary stored in it."""
    ckpt_dir = os.path.join(out_dir, "checkpoints")
    state = earlier_state(ckpt_dir, out_dir, resume)
    if state is not None:  # resume: the run's own classes and sizes, whatever the flags say now
        with open(os.path.join(ckpt_dir, "run.json"), encoding="utf-8") as f:
            run = json.load(f)
        config = ClassifierConfig.from_json(run["classifier"])
        settings = TrainSettings(**run["settings"])
        if run["classes"] != labels.classes:
            raise UsageError(f"{labels.root}: its classes differ from the run being resumed in {out_dir}")
    else:
        config = ClassifierConfig(classes=len(labels.classes), frames=frames, units=units, dropout=dropout,
                                  frame_encoder=frame_encoder)
    train_clips, val_clips = labels.select("train"), labels.select("val")
    cache, good, failed = prepared_cache(cache_dir, fingerprint, sorted(set(train_clips) | set(val_clips)),
                                         labels.root, weights, show_progress, config.frames)
    for path, reason in failed:
        skipped(path, reason)
    good = set(good)
    train_keys, val_keys = sorted(k for k in train_clips if k in good), sorted(k for k in val_clips if k in good)
    with cache:
        if not train_keys or not val_keys:
            raise UsageError(f"{labels.root}: no {'training' if not train_keys else 'validation'} clips with "
                             f"features ({labels.split_source})")
        x_train, x_val = cached_inputs(cache, train_keys, config.frames), cached_inputs(cache, val_keys, config.frames)
        dtype = str(cache.dtype)
    y_train = np.array([labels.label(k) for k in train_keys])
    y_val = np.array([labels.label(k) for k in val_keys])
    if state is None:
        config = ClassifierConfig(**{**config.to_json(), "feature_dim": x_train.shape[-1]})
        os.makedirs(ckpt_dir, exist_ok=True)
        write_json(os.path.join(ckpt_dir, "run.json"), {"classifier": config.to_json(), "settings": asdict(settings),
                                                        "classes": labels.classes, "encoder": fingerprint,
                                                        "labels": labels.root})
        state = fresh_state()

    keras.utils.set_random_seed(settings.seed)
    model = build_classifier(config)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate, clipnorm=5.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    if state["weights"]:
        model.optimizer.build(model.trainable_variables)
        model.load_weights(os.path.join(ckpt_dir, state["weights"]))
        print(f"resuming after epoch {state['epochs_done']}", file=sys.stderr, flush=True)
    else:
        flat = x_train.reshape(-1, x_train.shape[-1])
        real = np.flatnonzero(np.any(flat != 0, axis=1))  # zero rows are short clips' padding
        model.set_frame_statistics(frame_sample(flat, real[None, :]))

    def val_top1(trained) -> dict:
        return {"val_top1": round(float(np.mean(probabilities(trained, x_val).argmax(-1) == y_val)), 4)}

    done = state["epochs_done"]
    if done < settings.epochs and not state["stopped_early"]:
        model.fit(ClipBatches(x_train, y_train, settings.batch_size, settings.seed, done),
                  validation_data=ClipBatches(x_val, y_val, 256), epochs=settings.epochs, initial_epoch=done,
                  callbacks=[Checkpointer(ckpt_dir, state, settings.patience, val_top1)],
                  verbose=(1 if sys.stdout.isatty() else 2) if show_progress else 0)
    model.load_weights(os.path.join(ckpt_dir, state["best_weights"]))
    seconds = [h["seconds"] for h in state["history"]]
    summary = {
        "labels": labels.root, "split": labels.split_source, "classes": labels.classes,
        "train_clips": len(train_keys), "val_clips": len(val_keys),
        "epochs": state["epochs_done"], "best_epoch": state["best_epoch"], "best_val_loss": state["best_val_loss"],
        "stopped_early": state["stopped_early"],
        "seconds_per_epoch": round(float(np.median(seconds)), 2) if seconds else None,
        "val_top1": val_top1(model)["val_top1"], "settings": asdict(settings), "history": state["history"],
        "feature_dtype": dtype, "skipped_clips": len(failed),
    }
    save_classifier_bundle(out_dir, model, labels.classes, fingerprint, summary)
    return summary
