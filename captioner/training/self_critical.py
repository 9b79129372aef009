"""Self-critical sequence training (Rennie et al. 2017): a trained caption decoder fine-tuned on its own sampled
captions, with CIDEr-D as the reward.

Per step: K captions sampled per image (the compiled sampling loop), each rewarded with CIDEr-D against the
image's references (document frequencies from the training references, computed once: `evaluation.cider_d`),
minus a baseline: the mean reward of the image's other K - 1 samples ("new SCST", the default), or the reward of
the greedy caption. The policy gradient is then a weighted teacher-forced cross-entropy on the sampled captions:
weight = reward - baseline, so a sample better than its baseline is made more likely and a worse one less. It
runs through Keras' own `train_on_batch`, under every backend. Validation is CIDEr-D on the validation images
with the default search (beam 3: the search the model will be used with) after every epoch (epoch 0: the
starting model); the best epoch is kept and training stops after
`patience` epochs without a better one. Checkpoints and `--resume` as for cross-entropy training.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from captioner.base.backend import import_keras
from captioner.base.errors import UsageError
from captioner.base.progress import Progress
from captioner.datasets import CaptionSet
from captioner.evaluation.cider_d import CiderD
from captioner.evaluation.ptb_tokens import PtbTokenizer
from captioner.features.clip_features import cached_rows, gather_rows
from captioner.features.job_features import JobFeatures
from captioner.models.bundle import load_bundle, save_bundle
from captioner.search.searcher import Searcher, SearchSettings
from captioner.training.checkpoints import commit_epoch, earlier_state, read_run, restore, write_run
from captioner.training.resume import continue_run, resuming_line

log = logging.getLogger(__name__)

keras = import_keras()
BASELINES = ("mean", "greedy")


@dataclass
class ScstSettings:
    epochs: int = 200  # a safety cap: early stopping on validation CIDEr-D ends training
    batch_size: int = 32  # images per step (each with `samples` captions)
    learning_rate: float = 2e-4  # tuning scenes: 5e-5 1e-4 2e-4 gave validation CIDEr-D 3.130 3.149 3.178
    patience: int = 3  # epochs without a better validation CIDEr-D before stopping
    samples: int = 5  # sampled captions per image
    baseline: str = "mean"  # "mean": the other samples' mean reward; "greedy": the greedy caption's reward
    seed: int = 0
    val_beam_size: int = 3  # validation CIDEr-D (early stopping) with the default search, which the model is used with


def check_fine_tuning(settings: ScstSettings, init_dir: str, out_dir: str) -> None:
    """Refuse settings that cannot fine-tune, before any feature is extracted."""
    if settings.baseline not in BASELINES:
        raise UsageError(f"--baseline {settings.baseline}: choose one of {', '.join(BASELINES)}")
    if settings.baseline == "mean" and settings.samples < 2:
        raise UsageError("--baseline mean needs --samples 2 or more (it is the mean of the other samples)")
    refuse_init_as_out(init_dir, out_dir)


def refuse_init_as_out(init_dir: str | None, out_dir: str) -> None:
    """The fine-tuned model is written beside the one it starts from, never over it."""
    if init_dir is not None and os.path.abspath(init_dir) == os.path.abspath(out_dir):
        raise UsageError(f"--out {out_dir} is the --init model: write the fine-tuned one elsewhere")


def train_self_critical(captions: CaptionSet, features: JobFeatures, init_dir: str, out_dir: str,
                        settings: ScstSettings, resume: bool = False, show_progress: bool = True) -> dict:
    """Fine-tune the caption bundle `init_dir` on `features` (`features_for_job`, with the init model's encoder:
    extracted before, as a step of its own) and write the result to `out_dir`; returns the training summary
    stored in the new bundle (objective "cider", per-epoch reward and validation CIDEr-D). A resumed run starts
    from its own recorded init model."""
    check_fine_tuning(settings, init_dir, out_dir)
    ckpt_dir = os.path.join(out_dir, "checkpoints")
    state = earlier_state(ckpt_dir, out_dir, resume)
    changes = {}
    if state is not None:  # resume: the run's own starting model; epochs, patience, learning rate as asked
        run, _ = read_run(ckpt_dir)
        changes, init_dir = continue_run(ckpt_dir, run, settings, state), run["init"]
    bundle = load_bundle(init_dir)
    decoder, vocab, frames = bundle.decoder, bundle.vocab, bundle.frames
    if bundle.encoder != features.spec:
        raise UsageError(f"{init_dir}: its encoder is not the features' "
                         f"({bundle.encoder.difference(features.spec, 'model has', 'features have')})")
    if frames != features.frames:
        raise UsageError(f"{init_dir}: reads {frames} frames a clip; the features given, {features.frames}")
    train_caps, val_caps = captions.select("train").captions, captions.select("val").captions
    train_images, val_images = features.usable(train_caps), features.usable(val_caps)
    if not train_images or not val_images:
        raise UsageError(f"{captions.source}: self-critical training needs training and validation images with "
                         f"features ({captions.describe_split()})")
    tokenizer = PtbTokenizer()
    reward = CiderD([[tokenizer(c) for c in train_caps[k]] for k in train_images])
    val_reward = CiderD([[tokenizer(c) for c in val_caps[k]] for k in val_images])  # = corpus CIDEr-D of the split
    cache = features.cache
    with features:
        vectors, rows = cached_rows(cache, train_images + val_images, frames)
        train_rows, val_rows = rows[:len(train_images)], rows[len(train_images):]
        val_features = gather_rows(vectors, val_rows)
        decoder.compile(optimizer=keras.optimizers.Adam(settings.learning_rate, clipnorm=5.0),
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
        # The weights change every step: the compiled loops read them from the tables (reloaded after each
        # update) and get the initial state computed outside, so no backend samples from stale weights.
        searcher = Searcher(decoder, decoder.config.max_length, SearchSettings(batch_size=256), live_weights=True)
        val_searcher = searcher if settings.val_beam_size == 1 else Searcher(
            decoder, decoder.config.max_length, SearchSettings(beam_size=settings.val_beam_size, batch_size=256),
            live_weights=True)

        def val_cider() -> float:
            val_searcher.reload_weights()
            return float(np.mean(val_reward.scores(_texts(vocab, tokenizer, _best(val_searcher, val_features)),
                                                   range(len(val_images)))))

        if state is None:
            write_run(ckpt_dir, vocab, {"settings": asdict(settings), "init": os.path.abspath(init_dir),
                                        "encoder": bundle.encoder.to_json(), "captions": captions.source})
            # Rounded as every epoch's is: an epoch that only rounds up from the same score is no better one.
            state = {"epochs_done": 0, "best_epoch": 0, "best_val_cider": round(val_cider(), 4), "wait": 0,
                     "history": [], "weights": None, "best_weights": None, "stopped_early": False}
            log.info(f"self-critical training from {init_dir}: validation CIDEr-D (beam {settings.val_beam_size}) "
                 f"{state['best_val_cider']:.4f}")
        elif state["weights"]:
            restore(decoder, ckpt_dir, state, settings.learning_rate)
            log.info(resuming_line(state, settings, changes))
        while state["epochs_done"] < settings.epochs and not state["stopped_early"]:
            epoch = state["epochs_done"] + 1
            started = time.perf_counter()
            entry = _epoch(decoder, searcher, reward, vocab, tokenizer, vectors, train_rows, settings, epoch,
                           show_progress)
            entry.update(epoch=epoch, val_cider=round(val_cider(), 4), seconds=round(time.perf_counter() - started, 2))
            better = entry["val_cider"] > state["best_val_cider"] + 1e-9
            commit_epoch(ckpt_dir, decoder, state, entry, {"best_val_cider": entry["val_cider"]} if better else None,
                         settings.patience)
            log.info(f"epoch {epoch}: mean sample reward {entry['reward']:.4f}, validation CIDEr-D {entry['val_cider']:.4f}")
        if state["best_weights"]:
            decoder.load_weights(os.path.join(ckpt_dir, state["best_weights"]))
        else:  # no epoch beat the starting model: it is kept as it was
            decoder = load_bundle(init_dir).decoder
    epoch_seconds = [h["seconds"] for h in state["history"]]
    summary = {
        **bundle.training, "objective": "cider", "init": os.path.abspath(init_dir), "captions": captions.source,
        "train_images": len(train_images), "val_images": len(val_images),
        "scst_epochs": state["epochs_done"], "scst_best_epoch": state["best_epoch"],
        "best_val_cider": state["best_val_cider"], "scst_stopped_early": state["stopped_early"],
        "scst_seconds_per_epoch": round(float(np.median(epoch_seconds)), 2) if epoch_seconds else None,
        "scst_settings": asdict(settings), "scst_history": state["history"],
        "scst_resumes": state.get("resumes", []), "skipped_images": len(features.failed),
    }
    save_bundle(out_dir, decoder, vocab, bundle.encoder, summary)
    return summary


def _epoch(decoder, searcher, reward, vocab, tokenizer, features, train_rows, settings, epoch, show_progress):
    """One pass over the training images in an order fixed by (seed, epoch): {reward, baseline, loss}."""
    rng = np.random.default_rng([settings.seed, epoch])
    order = rng.permutation(len(train_rows))
    _seed_dropout(decoder, settings.seed, epoch)
    k = settings.samples
    progress = Progress(len(order), "img", f"scst {epoch} ", enabled=show_progress)
    rewards, baselines, losses = [], [], []
    for start in range(0, len(order), settings.batch_size):
        chosen = np.sort(order[start:start + settings.batch_size])  # (B,) images
        batch = gather_rows(features, train_rows[chosen])  # (B, D) or (B, N, D)
        searcher.reload_weights()
        tokens = searcher.sample(batch, k, rng)  # (B, K, L)
        sampled = reward.scores(_texts(vocab, tokenizer, tokens.reshape(-1, tokens.shape[-1])),
                                np.repeat(chosen, k)).reshape(len(chosen), k)  # (B, K)
        greedy = None
        if settings.baseline == "greedy":
            greedy = reward.scores(_texts(vocab, tokenizer, _best(searcher, batch)), chosen)  # (B,)
        baseline = baseline_rewards(sampled, settings.baseline, greedy)
        sequences = tokens.reshape(-1, tokens.shape[-1])  # (B*K, L)
        inputs = np.repeat(batch, k, axis=0)
        weight = token_weights(sampled - baseline, sequences.shape[1] - 1)
        loss = decoder.train_on_batch((inputs, sequences[:, :-1]), sequences[:, 1:], sample_weight=weight)
        rewards.append(float(sampled.mean()))
        baselines.append(float(baseline.mean()))
        losses.append(float(np.asarray(loss).ravel()[0]))
        progress.update(len(chosen), note=f"reward {np.mean(rewards):.4f}")
    progress.close()
    return {"reward": round(float(np.mean(rewards)), 4), "baseline": round(float(np.mean(baselines)), 4),
            "loss": round(float(np.mean(losses)), 6)}


def baseline_rewards(sampled: np.ndarray, baseline: str, greedy: np.ndarray | None = None) -> np.ndarray:
    """(B, K) baseline of each sampled caption's reward `sampled` (B, K): "mean", the mean reward of the same
    image's other K - 1 samples (so a sample never lowers its own baseline); "greedy", the reward of the image's
    greedy (or best beam) caption, `greedy` (B,)."""
    if baseline == "mean":
        k = sampled.shape[1]
        return (sampled.sum(axis=1, keepdims=True) - sampled) / (k - 1)
    return np.broadcast_to(np.asarray(greedy, dtype=np.float64)[:, None], sampled.shape)


def token_weights(advantage: np.ndarray, targets: int) -> np.ndarray:
    """(B*K, targets) float32 sample weights of the teacher-forced cross-entropy on the sampled captions: every
    target token of a caption weighted by its advantage (reward - baseline), so minimising the loss makes a
    caption better than its baseline more likely and a worse one less likely."""
    return np.repeat(advantage.reshape(-1, 1).astype(np.float32), targets, axis=1)


def _seed_dropout(decoder, seed: int, epoch: int) -> None:
    """Each dropout layer's random state set from (seed, epoch, layer): an epoch's masks are the same whether
    the run was interrupted and resumed or not (their seeds otherwise come from whatever ran before)."""
    for index, layer in enumerate(decoder._flatten_layers()):
        generator = getattr(layer, "seed_generator", None)
        if generator is not None:
            value = np.array([seed * 7919 + index, epoch], dtype=generator.state.dtype)
            generator.state.assign(keras.ops.convert_to_tensor(value, dtype=generator.state.dtype))


def _best(searcher, features) -> np.ndarray:
    """(B, L) best tokens (greedy, or the best beam), with the searcher's current tables."""
    return np.stack([ranked[0][0] for ranked in searcher(features, scores=False)])


def _texts(vocab, tokenizer, tokens: np.ndarray) -> list[str]:
    """Token rows -> the PTB tokens the reward compares with the references."""
    return [tokenizer(vocab.decode(row)) for row in tokens]
