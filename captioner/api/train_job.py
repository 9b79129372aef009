"""The training job of the Python API (what `captioner train` runs): a caption decoder, an activity classifier,
or the self-critical fine-tuning of a caption model; a new run, or one continued with `resume`."""

from __future__ import annotations

import os

from captioner.api.training_settings import CaptionTraining, ClassifierTraining, FineTuning, settings_from_options
from captioner.base.errors import UsageError
from captioner.inputs.filetypes import DEFAULT_FRAMES

DEFAULTS = {"weights": "imagenet", "precision": "fp32", "encoder_seed": 0, "seed": 0, "epochs": 200, "units": 256,
            "embed_dim": 256, "dropout": 0.3, "design": "inject", "min_count": 1, "label_smoothing": 0.0,
            "stop_on": "loss", "frame_encoder": "lstm", "frame_size": 64}


def train(out: str, cache: str, captions=None, images: str | None = None, labels=None, resume: bool = False,
          show_progress: bool = False, **options) -> dict:
    """Train a caption model on `captions` (a caption file in any supported layout, or a loaded `CaptionSet`)
    with its images under `images`, or an activity classifier on `labels` (a UCF101-layout folder, or a loaded
    `LabelSet`); with `objective="cider"`, fine-tune the caption model `init` by self-critical training. The
    keyword `options` are the fields of the job's settings (`CaptionTraining`, `ClassifierTraining`,
    `FineTuning`): this is `train_captions`, `train_classifier` or `fine_tune` with that object built for you.

    Features come from (and missing ones are first extracted into) the cache `cache`. Writes the bundle to `out`
    (a checkpoint every epoch) and returns its training summary (epochs, best_epoch, best_val_loss,
    seconds_per_epoch, val_bleu_greedy or val_top1, skipped_images or skipped_clips, settings, stopped_early:
    whether early stopping ended it rather than the `epochs` cap; for fine-tuning the starting model's summary with
    `objective`, `best_val_cider` and `scst_history` added).

    `resume` continues the run in `out` (interrupted, or finished: to train it further): a choice left as None
    takes the run's own value; `epochs`, `patience` and `learning_rate` may be changed (recorded in the run's
    history); any other choice given with another value than the run's is refused with both values named."""
    settings = settings_from_options(options, labels is not None)
    if isinstance(settings, FineTuning):
        return fine_tune(out, cache, captions, images, settings, resume, show_progress)
    if labels is not None:
        if captions is not None:
            raise UsageError("train needs captions (with images) or labels, not both")
        return train_classifier(out, cache, labels, settings, resume, show_progress)
    return train_captions(out, cache, captions, images, settings, resume, show_progress)


def train_captions(out: str, cache: str, captions, images: str, settings: CaptionTraining = CaptionTraining(),
                   resume: bool = False, show_progress: bool = False) -> dict:
    """Train a caption decoder on `captions` (a caption file, or a loaded `CaptionSet`) with its images or clips
    under `images`, as `settings` say; see `train` for the cache, the bundle in `out`, the summary and `resume`."""
    from captioner.datasets import load_captions
    from captioner.features.features_for import features_for_job
    from captioner.training.train import DecoderChoices, TrainSettings
    from captioner.training.train import train as train_decoder

    run = _new_or_resumed(out, cache, resume)
    if captions is None or images is None:
        raise UsageError("train on captions needs captions and images: the folder the caption file's names are "
                         "relative to")
    fp, frame_cnn = model_inputs(run, "decoder", settings)
    captions = load_captions(captions) if isinstance(captions, str) else captions
    frames = run.pick("--frames", settings.frames, "decoder.frames", None) or (
        DEFAULT_FRAMES if captions.kind == "clip" else 0)
    if frame_cnn is not None and not frames:
        raise UsageError(f"{captions.source}: names images; frame_encoder cnn is for clip models (or give frames)")
    stop_on = run.pick("--stop-on", settings.stop_on, "settings.stop_on", DEFAULTS["stop_on"])
    label_smoothing = run.pick("--label-smoothing", settings.label_smoothing, "settings.label_smoothing",
                               DEFAULTS["label_smoothing"])
    if stop_on not in ("loss", "cider"):
        raise UsageError(f"stop_on {stop_on!r}: loss or cider")
    if not 0.0 <= label_smoothing < 1.0:
        raise UsageError(f"label smoothing {label_smoothing}: give a share in [0, 1)")
    chosen = TrainSettings(**_steps(run, settings, False, frame_cnn), label_smoothing=label_smoothing,
                           stop_on=stop_on,
                           min_count=run.pick("--min-count", settings.min_count, "settings.min_count",
                                              DEFAULTS["min_count"]),
                           max_length=run.pick("--max-length", settings.max_length, "settings.max_length", None))
    pick = run.pick
    choices = DecoderChoices(design=pick("--design", settings.design, "decoder.design", DEFAULTS["design"]),
                             units=pick("--units", settings.units, "decoder.units", DEFAULTS["units"]),
                             embed_dim=pick("--embed-dim", settings.embed_dim, "decoder.embed_dim",
                                            DEFAULTS["embed_dim"]),
                             dropout=pick("--dropout", settings.dropout, "decoder.dropout", DEFAULTS["dropout"]),
                             frame_encoder=_frame_encoder(run, "decoder", settings), cnn=frame_cnn)
    features = features_for_job(cache, fp, captions.training_keys(), images, settings.weights, show_progress, frames)
    return train_decoder(captions, features, out, chosen, choices, resume, show_progress, settings.summary)


def train_classifier(out: str, cache: str, labels, settings: ClassifierTraining = ClassifierTraining(),
                     resume: bool = False, show_progress: bool = False) -> dict:
    """Train an activity classifier on `labels` (a UCF101-layout folder, or a loaded `LabelSet`) as `settings`
    say; see `train` for the cache, the bundle in `out`, the summary and `resume`."""
    from captioner.datasets.ucf101 import load_labels
    from captioner.features.features_for import features_for_job
    from captioner.models.model_configs import ClassifierConfig
    from captioner.training.train import TrainSettings
    from captioner.training.train_classifier import train_classifier as train_clip_classifier

    run = _new_or_resumed(out, cache, resume)
    fp, frame_cnn = model_inputs(run, "classifier", settings)
    steps = _steps(run, settings, True, frame_cnn)
    labels = load_labels(labels, seed=steps["seed"]) if isinstance(labels, str) else labels
    config = ClassifierConfig(
        classes=len(labels.classes), frames=run.pick("--frames", settings.frames, "classifier.frames", DEFAULT_FRAMES),
        feature_dim=fp.dim, units=run.pick("--units", settings.units, "classifier.units", DEFAULTS["units"]),
        dropout=run.pick("--dropout", settings.dropout, "classifier.dropout", DEFAULTS["dropout"]),
        frame_encoder=_frame_encoder(run, "classifier", settings), cnn=frame_cnn)
    features = features_for_job(cache, fp, labels.training_keys(), labels.root, settings.weights, show_progress,
                                config.frames)
    return train_clip_classifier(labels, features, out, config, TrainSettings(**steps), resume, show_progress,
                                 settings.summary)


def fine_tune(out: str, cache: str, captions, images: str, settings: FineTuning, resume: bool = False,
              show_progress: bool = False) -> dict:
    """Fine-tune the caption model `settings.init` by self-critical training on `captions` with their images
    under `images` (see `FineTuning`); the bundle in `out` keeps the starting model's summary with `objective`,
    `best_val_cider` and `scst_history` (per epoch: reward, baseline, loss, val_cider, seconds) added."""
    from captioner.datasets import load_captions
    from captioner.features.features_for import features_for_job
    from captioner.models.bundle_info import CAPTION, read_bundle_info
    from captioner.training.self_critical import (ScstSettings, check_fine_tuning, refuse_init_as_out,
                                                  train_self_critical)

    refuse_init_as_out(settings.init, out)  # before the folder is taken for an earlier run of its own
    run = _new_or_resumed(out, cache, resume)
    init = settings.init
    if run.resuming and init is not None and os.path.abspath(init) != run.recorded("init"):
        run.refuse("--init", init, run.recorded("init"))
    init = init or run.recorded("init")
    if init is None:
        raise UsageError("objective cider fine-tunes a trained caption model: give init (--init MODEL_DIR)")
    if captions is None or images is None:
        raise UsageError("self-critical training needs captions and images")
    captions = load_captions(captions) if isinstance(captions, str) else captions
    d = ScstSettings()
    chosen = ScstSettings(
        epochs=run.pick("--epochs", settings.epochs, "settings.epochs", DEFAULTS["epochs"]),
        seed=run.pick("--seed", settings.seed, "settings.seed", DEFAULTS["seed"]),
        batch_size=run.pick("--batch-size", settings.batch_size, "settings.batch_size", d.batch_size),
        learning_rate=run.pick("--learning-rate", settings.learning_rate, "settings.learning_rate", d.learning_rate),
        patience=run.pick("--patience", settings.patience, "settings.patience", d.patience),
        samples=run.pick("--samples", settings.samples, "settings.samples", d.samples),
        baseline=run.pick("--baseline", settings.baseline, "settings.baseline", d.baseline))
    check_fine_tuning(chosen, init, out)
    start = read_bundle_info(init).expect(CAPTION)
    weights = None if settings.weights == "imagenet" else settings.weights  # the init model's encoder, or a file
    features = features_for_job(cache, start.encoder, captions.training_keys(), images, weights, show_progress,
                                start.frames)
    return train_self_critical(captions, features, init, out, chosen, resume, show_progress)


def _new_or_resumed(out: str, cache: str, resume: bool):
    """The run's choices; an earlier run in `out` without `resume` is refused here, before features are
    extracted for it."""
    from captioner.training.checkpoints import earlier_state
    from captioner.training.resume import RunChoices

    if os.path.abspath(out) == os.path.abspath(cache):
        raise UsageError(f"{out}: --out and --cache are the same folder; a model bundle and a feature cache need "
                         "a folder each")
    if not resume:
        earlier_state(os.path.join(out, "checkpoints"), out, resume=False)
    return RunChoices(out, resume)


def _steps(run, settings, classifier: bool, frame_cnn) -> dict:
    """The seed, epochs cap, batch size, learning rate and patience of a new run, or of the resumed one."""
    from captioner.training.train import CNN_PATIENCE

    return dict(
        epochs=run.pick("--epochs", settings.epochs, "settings.epochs", DEFAULTS["epochs"]),
        seed=run.pick("--seed", settings.seed, "settings.seed", DEFAULTS["seed"]),
        batch_size=run.pick("--batch-size", settings.batch_size, "settings.batch_size",
                            _default_batch_size(classifier, frame_cnn)),
        learning_rate=run.pick("--learning-rate", settings.learning_rate, "settings.learning_rate", 3e-3),
        patience=run.pick("--patience", settings.patience, "settings.patience",
                          CNN_PATIENCE if frame_cnn is not None else 3))


def _frame_encoder(run, model: str, settings) -> str:
    return run.pick("--frame-encoder", settings.frame_encoder, f"{model}.frame_encoder", DEFAULTS["frame_encoder"])


def _default_batch_size(classifier: bool, frame_cnn) -> int:
    if classifier and frame_cnn is not None:
        from captioner.training.train_classifier import CNN_BATCH_SIZE

        return CNN_BATCH_SIZE
    return 128


def model_inputs(run, model: str, settings):
    """(the spec of the model's inputs, its FrameCnn or None): VGG16 features, or for frame_encoder "cnn" frames
    as pixels. `run`: the RunChoices of the run; `model` "decoder" or "classifier"; `settings` its job's."""
    from captioner.models.model_configs import FRAME_ENCODERS

    weights, encoder_seed, precision = settings.weights, settings.encoder_seed, settings.precision
    frame_encoder, frame_size, cnn = _frame_encoder(run, model, settings), settings.frame_size, settings.cnn
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
