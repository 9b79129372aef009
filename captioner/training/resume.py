"""Continuing a training run (`--resume`): the run keeps its own model and data, and a few settings may change.

What shapes the model or its data (sizes, design, vocabulary, frames, encoder, batch size, seed, ...) is the
run's own: a flag asked with another value than the run's is refused with both values named, and a flag not
asked takes the run's value, not the default. The epochs cap, the patience and the learning rate may change
between sessions of one run (train a finished run further with a larger --epochs): they apply from the next
epoch and each change is recorded in the run's state (`resumes`: after which epoch, what changed from what).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict

from captioner.base.atomic import write_json
from captioner.base.errors import UsageError
from captioner.features.encoder_spec import EncoderSpec, SpecError, spec_from_json

CHANGEABLE = {"epochs": "--epochs", "patience": "--patience", "learning_rate": "--learning-rate"}
_MISSING = object()


def _shown(value) -> str:
    return "none" if value is None else str(value)


class RunChoices:
    """The value of each training choice: on a new run what was asked, else the default; on a resumed run the
    run's own (run.json), refusing an asked value that differs where the choice is fixed."""

    def __init__(self, out_dir: str, resume: bool):
        self.out_dir = out_dir
        self.run = recorded_run(out_dir) if resume else None

    @property
    def resuming(self) -> bool:
        return self.run is not None

    def recorded(self, path: str, default=None):
        """The run's value at `path` ("decoder.units"), or `default` where the run has none."""
        value = self.run
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    def recorded_encoder(self) -> EncoderSpec:
        """The spec of the encoder the run was trained on (its run.json's "encoder")."""
        try:
            return spec_from_json(self.recorded("encoder"))
        except SpecError as exc:
            raise UsageError(f"{os.path.join(self.out_dir, 'checkpoints', 'run.json')}: {exc}") from None

    def pick(self, flag: str, asked, path: str, default):
        """`asked` (None: not asked) for the choice `flag`, recorded at `path` in run.json."""
        if self.run is None:
            return default if asked is None else asked
        recorded = self.recorded(path, _MISSING)
        if recorded is _MISSING:
            return default if asked is None else asked
        if asked is None or path.split(".")[-1] in CHANGEABLE:
            return recorded if asked is None else asked
        if asked != recorded:
            self.refuse(flag, asked, recorded)
        return recorded

    def refuse(self, flag: str, asked, recorded) -> None:
        raise UsageError(f"{flag} {_shown(asked)}: the run in {self.out_dir} was trained with {flag} "
                         f"{_shown(recorded)}, and a resumed run keeps its model and data (leave {flag} out, or "
                         "train a new model with a new --out)")


def recorded_run(out_dir: str) -> dict | None:
    """run.json of the run in `out_dir` that --resume continues (None when there is none to continue)."""
    ckpt_dir = os.path.join(out_dir, "checkpoints")
    if not os.path.exists(os.path.join(ckpt_dir, "state.json")):
        return None
    with open(os.path.join(ckpt_dir, "run.json"), encoding="utf-8") as f:
        return json.load(f)


def continue_run(ckpt_dir: str, run: dict, settings, state: dict) -> dict:
    """Apply `settings` (a dataclass) to the resumed run `run`/`state`: changes of the epochs cap, patience or
    learning rate are recorded in the state and in run.json (the next resume compares with them), and patience
    is applied to the early-stopping state; any other difference is refused. Returns the changes
    ({name: [before, now]})."""
    now = asdict(settings)
    before = run["settings"]
    changes = {k: [before.get(k), v] for k, v in now.items() if k in before and before[k] != v}
    fixed = [k for k in changes if k not in CHANGEABLE]
    if fixed:
        k = fixed[0]
        raise UsageError(f"{k} {changes[k][1]}: the run in {os.path.dirname(ckpt_dir)} was trained with {k} "
                         f"{changes[k][0]}, and a resumed run keeps its model and data")
    if changes:
        state.setdefault("resumes", []).append({"after_epoch": state["epochs_done"], "changed": changes})
        write_json(os.path.join(ckpt_dir, "run.json"), {**run, "settings": {**before, **now}})
    if "patience" in changes:
        state["stopped_early"] = state["wait"] >= settings.patience
    if changes:
        write_json(os.path.join(ckpt_dir, "state.json"), state)
    return changes


def describe_changes(changes: dict) -> str:
    """`--epochs 12 -> 24, --patience 3 -> 5` (empty for no change)."""
    return ", ".join(f"{CHANGEABLE[k]} {a} -> {b}" for k, (a, b) in changes.items())


def resuming_line(state: dict, settings, changes: dict) -> str:
    """`resuming after epoch 12 (--epochs 12 -> 24)`, or why nothing is left to train."""
    line = f"resuming after epoch {state['epochs_done']}"
    if changes:
        line += f" ({describe_changes(changes)})"
    left = nothing_left(state, settings)
    return f"{line}; nothing to train: {left}" if left else line


def nothing_left(state: dict, settings) -> str | None:
    """Why a resumed run has no epoch left to train (None when it has): the line a person needs to go on."""
    if state["stopped_early"]:
        return (f"the run ended by early stopping ({state['wait']} epochs without a better one, --patience "
                f"{settings.patience}): a larger --patience trains it further")
    if state["epochs_done"] >= settings.epochs:
        return (f"the run has trained its {settings.epochs} epochs (--epochs): a larger --epochs trains it "
                "further")
    return None
