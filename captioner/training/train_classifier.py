"""Training the activity classifier on cached frame vectors: the caption trainer's machinery (checkpoint per
epoch, early stopping on validation loss, `--resume` from the last finished epoch with the same batches), with
class labels for targets and validation top-1 accuracy recorded every epoch."""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict

import numpy as np

from captioner.base.atomic import write_json
from captioner.base.backend import import_keras
from captioner.base.errors import UsageError
from captioner.datasets.ucf101 import LabelSet
from captioner.features.clip_features import cached_rows, frame_sample, gather_rows
from captioner.features.job_features import JobFeatures
from captioner.models.classifier import ClassifierConfig, build_classifier, probabilities
from captioner.models.classifier_bundle import save_classifier_bundle
from captioner.training.checkpoints import Checkpointer, earlier_state, fresh_state, restore
from captioner.training.resume import continue_run, resuming_line
from captioner.training.train import TrainSettings
from captioner.training.training_data import ShuffledBatches

log = logging.getLogger(__name__)

keras = import_keras()

# A fall in validation loss smaller than this is no better epoch: once every validation clip is right the loss
# keeps creeping towards 0 for epochs on end, and training would run to its cap.
MIN_DELTA = 1e-3
# --frame-encoder cnn: clips per step. The CNN learns from many small steps (a drawn 168-clip set: 100% validation
# top-1 at epoch 10 with 16, chance after 10 epochs with the feature models' 128).
CNN_BATCH_SIZE = 16


class ClipBatches(ShuffledBatches):
    """(features (B, N, D) float32, labels (B,)), gathered from the memory-mapped cache (`rows` (n, N) as made by
    `cached_rows`), in the caption trainer's resumable shuffled order."""

    def __init__(self, features: np.ndarray, rows: np.ndarray, labels: np.ndarray, batch_size: int,
                 seed: int | None = None, epoch: int = 0):
        super().__init__(len(labels), batch_size, seed, epoch)
        self.features, self.rows, self.labels = features, rows, labels

    def __getitem__(self, index: int):
        chosen = self.chosen(index)
        return gather_rows(self.features, self.rows[chosen]), self.labels[chosen]


def train_classifier(labels: LabelSet, features: JobFeatures, out_dir: str, config: ClassifierConfig,
                     settings: TrainSettings, resume: bool = False, show_progress: bool = True,
                     summary: bool = False) -> dict:
    """Train on `features` (`features_for_job`: extracted before, as a step of its own) and write the classifier
    bundle to `out_dir`; returns the training summary stored in it.

    `config` is a new run's model (its frames those of `features`; `frame_encoder` "cnn" with `features` read
    as pixels trains the model's own CNN); a resumed run keeps its own. `summary` prints the model's layers
    first."""
    ckpt_dir = os.path.join(out_dir, "checkpoints")
    state = earlier_state(ckpt_dir, out_dir, resume)
    changes = {}
    if state is not None:  # resume: the run's own classes and sizes; epochs, patience, learning rate as asked
        with open(os.path.join(ckpt_dir, "run.json"), encoding="utf-8") as f:
            run = json.load(f)
        config = ClassifierConfig.from_json(run["classifier"])
        changes = continue_run(ckpt_dir, run, settings, state)
        if run["classes"] != labels.classes:
            raise UsageError(f"{labels.root}: its classes differ from the run being resumed in {out_dir}")
    if config.frames != features.frames:
        raise UsageError(f"{out_dir}: the model reads {config.frames} frames a clip; the features given, "
                         f"{features.frames}")
    train_keys, val_keys = features.usable(labels.select("train")), features.usable(labels.select("val"))
    y_train = np.array([labels.label(k) for k in train_keys])
    y_val = np.array([labels.label(k) for k in val_keys])
    cache = features.cache
    with features:
        if not train_keys or not val_keys:
            raise UsageError(f"{labels.root}: no {'training' if not train_keys else 'validation'} clips with "
                             f"features ({labels.split_source})")
        # Batches are gathered from the memory-mapped cache: training memory does not grow with the set.
        vectors, rows = cached_rows(cache, train_keys + val_keys, config.frames)
        train_rows, val_rows = rows[:len(train_keys)], rows[len(train_keys):]
        if state is None:
            os.makedirs(ckpt_dir, exist_ok=True)
            write_json(os.path.join(ckpt_dir, "run.json"), {"classifier": config.to_json(),
                                                            "settings": asdict(settings), "classes": labels.classes,
                                                            "encoder": features.spec.to_json(), "labels": labels.root})
            state = fresh_state()

        keras.utils.set_random_seed(settings.seed)
        model = build_classifier(config)
        if summary:
            model.summary(expand_nested=True)
        model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate, clipnorm=5.0),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        if state["weights"]:
            restore(model, ckpt_dir, state, settings.learning_rate)
            log.info(resuming_line(state, settings, changes))
        else:
            model.set_frame_statistics(frame_sample(vectors, train_rows, model.statistics_sample))

        def val_top1(trained) -> dict:
            predicted = [probabilities(trained, gather_rows(vectors, val_rows[i:i + 256])).argmax(-1)
                         for i in range(0, len(val_rows), 256)]
            return {"val_top1": round(float(np.mean(np.concatenate(predicted) == y_val)), 4)}

        done = state["epochs_done"]
        if done < settings.epochs and not state["stopped_early"]:  # shuffle=False: as in train.py
            model.fit(ClipBatches(vectors, train_rows, y_train, settings.batch_size, settings.seed, done),
                      validation_data=ClipBatches(vectors, val_rows, y_val, 256), epochs=settings.epochs,
                      initial_epoch=done, shuffle=False, callbacks=[Checkpointer(
                          ckpt_dir, state, settings.patience, val_top1, min_delta=MIN_DELTA,
                          announce=log.info if show_progress else None)],
                      verbose=(1 if sys.stdout.isatty() else 2) if show_progress else 0)
        model.load_weights(os.path.join(ckpt_dir, state["best_weights"]))
        top1 = val_top1(model)["val_top1"]
        dtype = str(cache.dtype)
    seconds = [h["seconds"] for h in state["history"]]
    result = {
        "labels": labels.root, "split": labels.split_source, "classes": labels.classes,
        "train_clips": len(train_keys), "val_clips": len(val_keys),
        "epochs": state["epochs_done"], "best_epoch": state["best_epoch"], "best_val_loss": state["best_val_loss"],
        "stopped_early": state["stopped_early"],
        "seconds_per_epoch": round(float(np.median(seconds)), 2) if seconds else None,
        "val_top1": top1, "settings": asdict(settings), "history": state["history"],
        "resumes": state.get("resumes", []),
        "feature_dtype": dtype, "skipped_clips": len(features.failed),
    }
    save_classifier_bundle(out_dir, model, labels.classes, features.spec, result)
    return result
