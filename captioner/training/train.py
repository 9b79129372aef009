"""Training a decoder on cached features: vocabulary from the train split, validation loss every epoch,
checkpoints every epoch, early stopping on validation loss, resume, validation BLEU-4 every epoch and at the end."""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

from captioner.base.backend import import_keras
from captioner.base.errors import UsageError
from captioner.datasets import CaptionSet
from captioner.evaluation.metrics import corpus_bleu_scores
from captioner.features.clip_features import cached_inputs, cached_rows, frame_sample
from captioner.features.job_features import JobFeatures
from captioner.models.bundle import save_bundle
from captioner.models.decoder import DecoderConfig, build_decoder
from captioner.models.model_configs import FrameCnn
from captioner.training.checkpoints import Checkpointer, earlier_state, fresh_state, read_run, restore, write_run
from captioner.training.resume import continue_run, resuming_line
from captioner.training.training_data import CaptionBatches, ClipCaptionBatches, caption_pairs, encode_captions
from captioner.training.token_loss import token_loss
from captioner.training.validation_bleu import ValidationBleu
from vocab import Vocabulary, caption_stats

log = logging.getLogger(__name__)

keras = import_keras()

# A model with its own CNN learns in stages with plateaus between them: on the drawn clips (tune set) a captioner
# stopped by patience 3 at epoch 20 (motion right for 99% of validation clips, colour for 19%); let on, its
# validation loss fell from 0.588 to 0.489 by epoch 31 and colour rose to 42%.
CNN_PATIENCE = 8
CAPTIONS_PER_CLIP = 5  # a model with its own CNN: captions a training step takes of each clip (MSVD has ~40)


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 200  # a cap no real run should reach: early stopping (patience) is what ends training
    batch_size: int = 128
    learning_rate: float = 3e-3
    patience: int = 3  # epochs without a better validation loss before stopping
    min_count: int = 1  # words seen fewer times become <unk>
    max_length: int | None = None  # words per caption; None = the train captions' 99th percentile
    seed: int = 0
    label_smoothing: float = 0.0  # share of each target word's probability spread over the vocabulary
    stop_on: str = "loss"  # the best epoch: lowest validation "loss", or highest greedy validation "cider" (CIDEr-D)


def _usable(captions: dict[str, list[str]], good: frozenset[str]) -> dict[str, list[str]]:
    return {k: v for k, v in captions.items() if k in good}


def _batches(config: DecoderConfig, features, row_of: dict, captions: dict[str, list[str]], tokens: np.ndarray,
             batch_size: int, seed: int | None = None, epoch: int = 0):
    """One caption a sample; for a model with its own CNN, C captions a clip (the CNN runs once per clip), about
    `batch_size` captions a step either way. `tokens` are the captions' rows in `caption_pairs` order."""
    if config.frame_encoder != "cnn":
        keys, _ = caption_pairs(captions)
        return CaptionBatches(features, np.array([row_of[k] for k in keys]), tokens, batch_size, seed, epoch)
    clips = list(captions)
    per_clip = np.split(tokens, np.cumsum([len(captions[k]) for k in clips])[:-1])
    c = min(CAPTIONS_PER_CLIP, max(len(t) for t in per_clip))
    return ClipCaptionBatches(features, np.array([row_of[k] for k in clips]), per_clip, max(1, batch_size // c), c,
                              seed, epoch)


@dataclass(frozen=True)
class DecoderChoices:
    """A new decoder's shape as asked; the data fixes the rest (vocabulary, caption length, feature size, frames).
    A resumed run keeps its own."""
    design: str = "inject"
    units: int = 256
    embed_dim: int = 256
    dropout: float = 0.3
    frame_encoder: str = "lstm"  # "cnn": the model trains its own CNN `cnn` on frames read as pixels
    cnn: FrameCnn | None = None


def train(captions: CaptionSet, features: JobFeatures, out_dir: str, settings: TrainSettings,
          choices: DecoderChoices = DecoderChoices(), resume: bool = False, show_progress: bool = True,
          summary: bool = False) -> dict:
    """Train on `features` (`features_for_job`: extracted before, as a step of its own) and write the bundle to
    `out_dir`; returns the training summary stored in the bundle.

    With `features.frames` > 0 the caption file names clips and the model is a clip model. `summary` prints the
    model's layers first.
    """
    ckpt_dir = os.path.join(out_dir, "checkpoints")
    state = earlier_state(ckpt_dir, out_dir, resume)
    changes = {}
    frames = features.frames
    if state is not None:  # resume: the run's own vocabulary and sizes; epochs, patience, learning rate as asked
        run, vocab = read_run(ckpt_dir)
        config = DecoderConfig.from_json(run["decoder"])
        changes = continue_run(ckpt_dir, run, settings, state)
        if config.frames != frames:
            raise UsageError(f"{out_dir}: the run reads {config.frames} frames a clip; the features given, "
                             f"{frames}")
    train_caps = _usable(captions.select("train").captions, features.keys)
    val_caps = _usable(captions.select("val").captions, features.keys)
    cache = features.cache
    with features:
        if not train_caps:
            raise UsageError(f"{captions.source}: no training images with features ({captions.describe_split()})")
        if not val_caps:
            raise UsageError(f"{captions.source}: no validation images ({captions.describe_split()})")
        _, train_texts = caption_pairs(train_caps)
        _, val_texts = caption_pairs(val_caps)
        keys = sorted(train_caps.keys() | val_caps.keys())
        vectors, rows = cached_rows(cache, keys, frames)
        row_of = dict(zip(keys, rows))

        if state is None:
            vocab = Vocabulary.build(train_texts, settings.min_count)
            max_length = settings.max_length or max(1, caption_stats(vocab, train_texts).length_percentiles[99])
            settings = TrainSettings(**{**asdict(settings), "max_length": max_length})
            config = DecoderConfig(vocab_size=len(vocab), max_length=max_length, feature_dim=cache.dim,
                                   units=choices.units, embed_dim=choices.embed_dim, dropout=choices.dropout,
                                   design=choices.design, frames=frames, frame_encoder=choices.frame_encoder,
                                   cnn=choices.cnn)
            write_run(ckpt_dir, vocab, {"decoder": config.to_json(), "settings": asdict(settings),
                                        "encoder": features.spec.to_json(), "captions": captions.source})
            state = fresh_state()
        log.info(caption_stats(vocab, train_texts).summary())
        train_tokens, cut = encode_captions(vocab, train_texts, config.max_length)
        val_tokens, _ = encode_captions(vocab, val_texts, config.max_length)
        if cut:
            log.warning("note: %d training captions longer than %d words were truncated", cut, config.max_length)

        keras.utils.set_random_seed(settings.seed)
        decoder = build_decoder(config)
        decoder.compile(optimizer=keras.optimizers.Adam(settings.learning_rate, clipnorm=5.0),
                        loss=token_loss(settings.label_smoothing))
        if summary:
            decoder.summary(expand_nested=True)
        if frames and not state["weights"]:
            decoder.set_frame_statistics(frame_sample(vectors, np.array([row_of[k] for k in sorted(train_caps)]),
                                                      decoder.statistics_sample))
        if state["weights"]:
            restore(decoder, ckpt_dir, state, settings.learning_rate)
            log.info(resuming_line(state, settings, changes))
        done = state["epochs_done"]
        train_data = _batches(config, vectors, row_of, train_caps, train_tokens, settings.batch_size,
                              settings.seed, done)
        val_data = _batches(config, vectors, row_of, val_caps, val_tokens, 256)
        val_images = sorted(val_caps)
        # One compiled greedy search serves every epoch's validation BLEU and the final one.
        val_bleu = ValidationBleu(vocab, cached_inputs(cache, val_images, frames), [val_caps[k] for k in val_images],
                                  str(cache.dtype))
        if done < settings.epochs and not state["stopped_early"]:
            # shuffle=False: the batches shuffle their captions from (seed, epoch); Keras' own shuffle of the
            # batches' order draws from Python's global random state, which a resumed run does not have.
            decoder.fit(train_data, validation_data=val_data, epochs=settings.epochs, initial_epoch=done, shuffle=False,
                        callbacks=[Checkpointer(ckpt_dir, state, settings.patience, val_bleu, settings.stop_on,
                                                announce=log.info if show_progress else None)],
                        verbose=(1 if sys.stdout.isatty() else 2) if show_progress else 0)
        decoder.load_weights(os.path.join(ckpt_dir, state["best_weights"]))

        start = time.perf_counter()
        hypotheses = val_bleu.captions(decoder)
        gen_seconds = time.perf_counter() - start
        bleu = corpus_bleu_scores([val_caps[k] for k in val_images], hypotheses)

    epoch_seconds = [h["seconds"] for h in state["history"]]
    result = {
        "captions": captions.source,
        "train_images": len(train_caps), "train_captions": len(train_texts),
        "val_images": len(val_caps), "val_captions": len(val_texts),
        "epochs": state["epochs_done"], "best_epoch": state["best_epoch"],
        "best_val_loss": state["best_val_loss"], "stopped_early": state["stopped_early"],
        "seconds_per_epoch": round(float(np.median(epoch_seconds)), 2) if epoch_seconds else None,
        "val_bleu_greedy": bleu, "val_greedy_captions_per_s": round(len(val_images) / gen_seconds, 1),
        "settings": asdict(settings),
        "best_val_cider": state.get("best_val_cider"),  # greedy, at the best epoch when stopping on it
        "history": state["history"],  # per epoch: loss, val_loss, val_bleu1, val_bleu4, val_cider (greedy), seconds
        "resumes": state.get("resumes", []),  # after which epoch --resume changed which settings
        "feature_dtype": str(cache.dtype),
        "skipped_images": len(features.failed),
    }
    save_bundle(out_dir, decoder, vocab, features.spec, result)
    return result
