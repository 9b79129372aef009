"""The training job of the Python API (what `captioner train` runs): a caption decoder, an activity classifier,
or the self-critical fine-tuning of a caption model; a new run, or one continued with `resume`."""

from __future__ import annotations

import os

from captioner.inputs.filetypes import DEFAULT_FRAMES

DEFAULTS = {"weights": "imagenet", "precision": "fp32", "encoder_seed": 0, "seed": 0, "epochs": 200, "units": 256,
            "embed_dim": 256, "dropout": 0.3, "design": "inject", "min_count": 1, "label_smoothing": 0.0,
            "stop_on": "loss", "frame_encoder": "lstm", "frame_size": 64}


def train(out: str, cache: str, captions=None, images: str | None = None, labels=None, weights: str | None = None,
          seed: int | None = None, precision: str | None = None, frames: int | None = None,
          frame_encoder: str | None = None, epochs: int | None = None, patience: int | None = None,
          batch_size: int | None = None, learning_rate: float | None = None, units: int | None = None,
          embed_dim: int | None = None, dropout: float | None = None, design: str | None = None,
          min_count: int | None = None, max_length: int | None = None, resume: bool = False,
          show_progress: bool = False, objective: str = "xe", init: str | None = None, samples: int | None = None,
          baseline: str | None = None, label_smoothing: float | None = None, stop_on: str | None = None,
          frame_size: int | None = None, cnn: dict | None = None, summary: bool = False,
          encoder_seed: int | None = None) -> dict:
    """Train a caption model on `captions` (a caption file in any supported layout, or a loaded `CaptionSet`)
    with its images under `images`, or an activity classifier on `labels` (a UCF101-layout folder, or a loaded
    `LabelSet`); features come from (and missing ones are extracted into) the cache `cache`. Writes the bundle
    to `out` (a checkpoint every epoch) and returns its training summary (epochs, best_epoch, best_val_loss,
    seconds_per_epoch, val_bleu_greedy or val_top1, skipped_images or skipped_clips, settings, stopped_early:
    whether early stopping ended it rather than the `epochs` cap).

    A choice left as None takes its default on a new run: `weights` "imagenet", `encoder_seed` 0 (the seed of a
    random encoder's weights), `precision` "fp32", `seed` 0 (shuffling, dropout, the initial weights),
    `epochs` 200 (a cap: early stopping ends training), `patience` 3 (8 for a model with its own CNN),
    `batch_size` 128 captions per step (clips per step for a classifier: 128, or 16 with its own CNN),
    `learning_rate` 3e-3 (Adam), `units` 256, `embed_dim` 256, `dropout` 0.3, `design` "inject" (or "merge"),
    `min_count` 1, `max_length` the training captions' 99th percentile, `label_smoothing` 0 (the share of each
    target word's probability spread over the vocabulary), `stop_on` "loss" (what picks the best epoch and stops
    training: validation loss, or "cider": greedy validation CIDEr-D), `frames` 16 for a caption file that names
    clips (giving it makes a clip model).

    `resume` continues the run in `out` (interrupted, or finished: to train it further): a choice left as None
    takes the run's own value; `epochs`, `patience` and `learning_rate` may be changed (recorded in the run's
    history); any other choice given with another value than the run's is refused with both values named.

    `frame_encoder` "lstm" (an LSTM over the VGG16 frame vectors), "mean" (their mean), or "cnn": a clip model
    (either head) with its own small CNN, trained with it from the frames as `frame_size` x `frame_size` pixels
    (default 64; kept in a pixel cache under `cache`; no VGG16, so `weights` does not apply); `cnn` sizes it
    ({"filters": 16, "blocks": 3, "dense": 64} by default). `summary` prints the model's layers before training.

    `objective="cider"` fine-tunes the caption model `init` by self-critical training instead: `samples`
    captions sampled per image (default 5), CIDEr-D as the reward, `baseline` "mean" (the other samples' mean
    reward, the default) or "greedy"; `batch_size` is then images per step (default 32), `learning_rate` defaults
    to 2e-4, early stopping is on validation CIDEr-D with the default search (beam 3), and the bundle keeps the
    starting model's summary with `objective`, `best_val_cider` and `scst_history` (per epoch: reward, baseline,
    loss, val_cider, seconds) added; sizes, vocabulary and encoder are the init model's."""
    from captioner.base.errors import UsageError
    from captioner.training.resume import RunChoices

    if (captions is None) == (labels is None):
        raise UsageError("train needs captions (with images) or labels, not both")
    if os.path.abspath(out) == os.path.abspath(cache):
        raise UsageError(f"{out}: --out and --cache are the same folder; a model bundle and a feature cache need "
                         "a folder each")
    if objective not in ("xe", "cider"):
        raise UsageError(f"objective {objective!r}: xe or cider")
    run = RunChoices(out, resume)
    seed = run.pick("--seed", seed, "settings.seed", DEFAULTS["seed"])
    epochs = run.pick("--epochs", epochs, "settings.epochs", DEFAULTS["epochs"])
    if objective == "cider":
        return _self_critical(run, cache, captions, images, init, weights, seed, epochs, patience, batch_size,
                              learning_rate, samples, baseline, resume, show_progress)
    model = "classifier" if labels is not None else "decoder"
    frame_encoder = run.pick("--frame-encoder", frame_encoder, f"{model}.frame_encoder", DEFAULTS["frame_encoder"])
    fp, frame_cnn = model_inputs(run, model, weights, encoder_seed, precision, frame_encoder, frame_size, cnn)
    from captioner.training.train import CNN_PATIENCE, TrainSettings

    settings = dict(
        epochs=epochs, seed=seed,
        batch_size=run.pick("--batch-size", batch_size, "settings.batch_size",
                            _default_batch_size(labels is not None, frame_cnn)),
        learning_rate=run.pick("--learning-rate", learning_rate, "settings.learning_rate", 3e-3),
        patience=run.pick("--patience", patience, "settings.patience", CNN_PATIENCE if frame_cnn is not None else 3))
    units = run.pick("--units", units, f"{model}.units", DEFAULTS["units"])
    dropout = run.pick("--dropout", dropout, f"{model}.dropout", DEFAULTS["dropout"])
    if labels is not None:
        from captioner.datasets.ucf101 import load_labels
        from captioner.training.train_classifier import train_classifier

        labels = load_labels(labels, seed=seed) if isinstance(labels, str) else labels
        frames = run.pick("--frames", frames, "classifier.frames", DEFAULT_FRAMES)
        return train_classifier(labels, cache, out, fp, weights, TrainSettings(**settings), frames, frame_encoder,
                                units=units, dropout=dropout, resume=resume, show_progress=show_progress,
                                cnn=frame_cnn, summary=summary)
    from captioner.datasets import load_captions
    from captioner.training.train import train as train_decoder

    if images is None:
        raise UsageError("train on captions needs images: the folder the caption file's names are relative to")
    captions = load_captions(captions) if isinstance(captions, str) else captions
    frames = run.pick("--frames", frames, "decoder.frames", None) or (DEFAULT_FRAMES if captions.kind == "clip"
                                                                      else 0)
    if frame_cnn is not None and not frames:
        raise UsageError(f"{captions.source}: names images; frame_encoder cnn is for clip models (or give frames)")
    stop_on = run.pick("--stop-on", stop_on, "settings.stop_on", DEFAULTS["stop_on"])
    label_smoothing = run.pick("--label-smoothing", label_smoothing, "settings.label_smoothing",
                               DEFAULTS["label_smoothing"])
    if stop_on not in ("loss", "cider"):
        raise UsageError(f"stop_on {stop_on!r}: loss or cider")
    if not 0.0 <= label_smoothing < 1.0:
        raise UsageError(f"label smoothing {label_smoothing}: give a share in [0, 1)")
    settings = TrainSettings(**settings, label_smoothing=label_smoothing, stop_on=stop_on,
                             min_count=run.pick("--min-count", min_count, "settings.min_count", DEFAULTS["min_count"]),
                             max_length=run.pick("--max-length", max_length, "settings.max_length", None))
    return train_decoder(captions, images, cache, out, fp, weights, settings,
                         design=run.pick("--design", design, "decoder.design", DEFAULTS["design"]), units=units,
                         embed_dim=run.pick("--embed-dim", embed_dim, "decoder.embed_dim", DEFAULTS["embed_dim"]),
                         dropout=dropout, resume=resume, show_progress=show_progress, frames=frames,
                         frame_encoder=frame_encoder, cnn=frame_cnn, summary=summary)


def _default_batch_size(classifier: bool, frame_cnn) -> int:
    if classifier and frame_cnn is not None:
        from captioner.training.train_classifier import CNN_BATCH_SIZE

        return CNN_BATCH_SIZE
    return 128


def model_inputs(run, model: str, weights, encoder_seed, precision, frame_encoder: str, frame_size, cnn):
    """(the fingerprint of the model's inputs, its FrameCnn or None): VGG16 features, or for frame_encoder "cnn"
    frames as pixels. `run`: the RunChoices of the run; `model` "decoder" or "classifier"."""
    from captioner.base.errors import UsageError
    from captioner.models.model_configs import FRAME_ENCODERS

    if frame_encoder not in FRAME_ENCODERS:
        raise UsageError(f"frame_encoder {frame_encoder!r}: one of {', '.join(FRAME_ENCODERS)}")
    if frame_encoder != "cnn":
        if cnn is not None:
            raise UsageError("cnn sizes go with frame_encoder cnn")
        return _encoder(run, weights, encoder_seed, precision), None
    from captioner.features.pixels import pixel_fingerprint
    from captioner.models.model_configs import FrameCnn

    if weights not in (None, "imagenet") or precision not in (None, "fp32") or encoder_seed is not None:
        raise UsageError("--frame-encoder cnn trains its own CNN from the pixels: --weights, --encoder-seed and "
                         "--precision (VGG16's) do not apply")
    sizes = {"frame_size": run.pick("--frame-size", frame_size, f"{model}.cnn.frame_size", DEFAULTS["frame_size"])}
    default = FrameCnn(frame_size=sizes["frame_size"])
    for name, value in (cnn or {}).items():
        if not hasattr(default, name) or name == "frame_size":
            raise UsageError(f"cnn size {name!r}: one of filters, blocks, dense")
    for name in ("filters", "blocks", "dense"):
        sizes[name] = run.pick(f"--cnn-{name}", (cnn or {}).get(name), f"{model}.cnn.{name}", getattr(default, name))
    try:
        return pixel_fingerprint(sizes["frame_size"]), FrameCnn(**sizes)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"frame CNN: {exc}") from None


def _encoder(run, weights, encoder_seed, precision):
    """The VGG16 encoder's spec: as asked (defaults on a new run), or the resumed run's own, refusing an asked
    --weights, --encoder-seed or --precision that gives another."""
    from captioner.features.encoder import fingerprint, weights_option

    if run.recorded("encoder") is None:
        return fingerprint(weights or DEFAULTS["weights"], DEFAULTS["encoder_seed"] if encoder_seed is None
                           else encoder_seed, precision or DEFAULTS["precision"])
    recorded = run.recorded_encoder()
    run.pick("--precision", precision, "encoder.precision", None)
    if encoder_seed is not None and recorded.is_random and encoder_seed != recorded.seed:
        run.refuse("--encoder-seed", encoder_seed, recorded.seed)
    if weights is not None:
        asked = fingerprint(weights, recorded.seed, recorded.precision)
        if asked != recorded:
            run.refuse("--weights", weights, weights_option(recorded) or recorded.weights_id)
    return recorded


def _self_critical(run, cache, captions, images, init, weights, seed, epochs, patience, batch_size, learning_rate,
                   samples, baseline, resume, show_progress) -> dict:
    from captioner.base.errors import UsageError
    from captioner.datasets import load_captions
    from captioner.training.self_critical import ScstSettings, train_self_critical

    if run.resuming and init is not None and os.path.abspath(init) != run.recorded("init"):
        run.refuse("--init", init, run.recorded("init"))
    init = init or run.recorded("init")
    if init is None:
        raise UsageError("objective cider fine-tunes a trained caption model: give init (--init MODEL_DIR)")
    if images is None:
        raise UsageError("self-critical training needs captions and images")
    captions = load_captions(captions) if isinstance(captions, str) else captions
    d = ScstSettings()
    settings = ScstSettings(
        epochs=epochs, seed=seed, batch_size=run.pick("--batch-size", batch_size, "settings.batch_size", d.batch_size),
        learning_rate=run.pick("--learning-rate", learning_rate, "settings.learning_rate", d.learning_rate),
        patience=run.pick("--patience", patience, "settings.patience", d.patience),
        samples=run.pick("--samples", samples, "settings.samples", d.samples),
        baseline=run.pick("--baseline", baseline, "settings.baseline", d.baseline))
    weights = None if weights == "imagenet" else weights  # the init model's encoder unless a file is named
    return train_self_critical(captions, images, cache, init, run.out_dir, weights, settings, resume, show_progress)
