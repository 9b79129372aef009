"""Per-epoch checkpoints, early stopping and resume, crash-safe.

In MODEL_DIR/checkpoints/:
    run.json                 decoder config, vocabulary size and training settings, written once at the start
    vocab.json               the training vocabulary
    epoch-0003.weights.h5    weights + optimizer state after epoch 3; only the newest and the best epoch's
                             (lowest validation loss) are kept
    state.json               epochs done, losses, best epoch, patience counter; names the newest weights file,
                             and is written after it, so it always points at a complete file
"""

from __future__ import annotations

import json
import logging
import os
import time

from captioner.base.atomic import atomic_path, write_json
from captioner.base.backend import import_keras
from captioner.base.errors import UsageError
from vocab import Vocabulary

log = logging.getLogger(__name__)

keras = import_keras()


def write_run(directory: str, vocab: Vocabulary, run: dict) -> None:
    """What a resumed run must reuse: the vocabulary, and the decoder config and settings (run.json)."""
    os.makedirs(directory, exist_ok=True)
    vocab.save(os.path.join(directory, "vocab.json"))
    write_json(os.path.join(directory, "run.json"), run)


def read_run(directory: str) -> tuple[dict, Vocabulary]:
    with open(os.path.join(directory, "run.json"), encoding="utf-8") as f:
        return json.load(f), Vocabulary.load(os.path.join(directory, "vocab.json"))


def read_state(directory: str) -> dict | None:
    path = os.path.join(directory, "state.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def earlier_state(ckpt_dir: str, out_dir: str, resume: bool) -> dict | None:
    """The state of an earlier run in `out_dir` to resume, or None for a new run; an earlier run without
    --resume is refused (it would be overwritten), and --resume with nothing to resume says so."""
    state = read_state(ckpt_dir)
    if state is not None and not resume:
        raise UsageError(f"{out_dir}: holds an earlier training run ({state['epochs_done']} epochs done); "
                         "pass --resume to continue it, or choose a new --out")
    if resume and state is None:
        log.warning("note: nothing to resume in %s; starting a new run", out_dir)
    return state


def restore(model, directory: str, state: dict, learning_rate: float) -> None:
    """Load the newest epoch's weights and optimizer state into the compiled `model`; the learning rate is the
    one asked now (the optimizer's own, saved with it, is the run's earlier one)."""
    model.optimizer.build(model.trainable_variables)
    model.load_weights(os.path.join(directory, state["weights"]))
    model.optimizer.learning_rate = learning_rate


def fresh_state() -> dict:
    return {"epochs_done": 0, "best_val_loss": None, "best_epoch": None, "wait": 0, "history": [],
            "weights": None, "best_weights": None, "stopped_early": False}


class Checkpointer(keras.callbacks.Callback):
    def __init__(self, directory: str, state: dict, patience: int, validation=None, stop_on: str = "loss",
                 min_delta: float = 0.0, announce=None):
        """`stop_on`: "loss" keeps the epoch with the lowest validation loss; "cider" the one with the highest
        validation CIDEr-D (`validation` must measure "val_cider"). `min_delta`: the least fall of the validation
        loss that counts as better."""
        super().__init__()
        self.directory, self.state, self.patience, self.stop_on = directory, state, patience, stop_on
        self.min_delta = min_delta
        self.validation = validation  # model -> extra per-epoch measures ({"val_bleu1": ..}, {"val_top1": ..}), or None
        self.announce = announce  # called with one line per epoch (the validation measures Keras does not print)
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        s = self.state
        val = float(logs.get("val_loss", logs.get("loss")))
        entry = {"epoch": epoch + 1, "loss": float(logs.get("loss", float("nan"))), "val_loss": val}
        if self.validation is not None:
            entry.update(self.validation(self.model))
        # Seconds of the whole epoch: training, validation (loss and BLEU) and this checkpoint.
        entry["seconds"] = round(time.perf_counter() - self._started, 2)
        if self.stop_on == "cider":
            best = s.get("best_val_cider")
            better = best is None or entry["val_cider"] > best + 1e-9
            record = {"best_val_loss": val, "best_val_cider": entry["val_cider"]}
        else:
            better = s["best_val_loss"] is None or val < s["best_val_loss"] - self.min_delta
            record = {"best_val_loss": val}
        commit_epoch(self.directory, self.model, s, entry, record if better else None, self.patience)
        if self.announce is not None:
            self.announce(epoch_line(entry, s["best_epoch"]))
        if s["stopped_early"]:
            self.model.stop_training = True


MEASURES = {"val_loss": "val loss", "val_bleu4": "val BLEU-4", "val_cider": "val CIDEr-D", "val_top1": "val top-1"}


def epoch_line(entry: dict, best_epoch: int | None) -> str:
    """`epoch 3: val loss 0.7548, val BLEU-4 0.4044, val CIDEr-D 1.5995 (best epoch 3)`."""
    measures = ", ".join(f"{label} {entry[key]:.4f}" for key, label in MEASURES.items() if key in entry)
    return f"epoch {entry['epoch']}: {measures} (best epoch {best_epoch})"


def commit_epoch(directory: str, model, state: dict, entry: dict, best: dict | None, patience: int) -> None:
    """Record a finished epoch: its weights (with optimizer state) atomically, then state.json naming them, then
    drop the files it no longer names. `best`: the state's best-so-far fields when this epoch is the best yet
    (None when it is not: one more epoch without improvement)."""
    name = f"epoch-{entry['epoch']:04d}.weights.h5"
    with atomic_path(os.path.join(directory, name), suffix=".weights.h5") as tmp:
        model.save_weights(tmp)
    stale = {state["weights"], state.get("best_weights")}
    state["history"].append(entry)
    if best is not None:
        state.update(best, best_epoch=entry["epoch"], best_weights=name, wait=0)
    else:
        state["wait"] += 1
    state["epochs_done"], state["weights"] = entry["epoch"], name
    state["stopped_early"] = state["wait"] >= patience
    write_json(os.path.join(directory, "state.json"), state)  # commit, then drop what it no longer names
    for old in stale - {state["weights"], state["best_weights"], None}:
        if os.path.exists(os.path.join(directory, old)):
            os.unlink(os.path.join(directory, old))
