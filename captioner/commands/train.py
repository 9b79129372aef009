"""Train an LSTM decoder on cached VGG16 features and write a model bundle.

A caption file that names clips (MSVD CSV, MSR-VTT JSON, or video file names in any layout) trains a clip
model: each clip is read as --frames frames, an LSTM (or the mean, --frame-encoder mean) reads the frame
vectors, and its state starts the caption decoder.

Features missing from the cache are extracted first. The vocabulary comes from the training split only;
validation loss is printed every epoch, a checkpoint is written every epoch, the best epoch (lowest validation
loss) is kept, and training stops early when validation loss stops improving. --resume continues a killed run.
Validation BLEU (greedy) is printed at the end.

--labels ROOT (clips in the UCF101 layout) trains an activity classifier instead: the same frames, cache,
frame encoder, checkpoints and --resume, with a softmax over the classes; validation top-1 every epoch.

--frame-encoder cnn (clip models, either kind) has no VGG16: the frames are kept as --frame-size pixels (a pixel
cache under --cache) and a small CNN, TimeDistributed around each layer, is trained with the LSTM.
"""

from __future__ import annotations

from captioner.commands.options import (DEFAULT_FRAMES, add_dataset_options, add_frame_encoder, add_precision,
                                        add_quiet, check_dataset_choice, positive_int)

HELP = "train a caption decoder (or, with --labels, an activity classifier) and write a model bundle"


def add_arguments(parser) -> None:
    add_dataset_options(parser, labels=True)
    parser.add_argument("--out", required=True, metavar="MODEL_DIR", help="model bundle directory to write")
    parser.add_argument("--weights", default=None, metavar="imagenet|random|random-tiny|FILE",
                        help="encoder weights (default: imagenet; with --init, the model's own)")
    parser.add_argument("--encoder-seed", type=int, default=None,
                        help="seed of the random encoder's weights (--weights random/random-tiny) (default: 0)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of training: shuffling, dropout, the initial weights, a seeded split (default: 0)")
    add_precision(parser, default=None)
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="most epochs, a safety cap: training ends when the validation loss stops improving "
                             "(--patience) (default: 200); with --resume, a larger one trains a finished run further")
    parser.add_argument("--patience", type=positive_int, default=None,
                        help="stop after this many epochs without a better validation loss (default: 3; 8 with "
                             "--frame-encoder cnn)")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help="captions per step (default: 128); with --labels, clips per step (default: 128, or 16 "
                             "with --frame-encoder cnn); with --objective cider, images per step, each with "
                             "--samples captions (default: 32)")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="Adam learning rate (default: 0.003; with --objective cider, 2e-4)")
    parser.add_argument("--units", type=positive_int, default=None, help="LSTM units (default: 256)")
    parser.add_argument("--embed-dim", type=positive_int, default=None, help="word embedding size (default: 256)")
    parser.add_argument("--dropout", type=float, default=None, help="dropout rate (default: 0.3)")
    parser.add_argument("--design", choices=["inject", "merge"], default=None,
                        help="image vector as the LSTM's initial state (inject) or added to its output (merge) "
                             "(default: inject)")
    parser.add_argument("--min-count", type=positive_int, default=None,
                        help="words seen fewer times in the training captions become <unk> (default: 1)")
    parser.add_argument("--max-length", type=positive_int, default=None,
                        help="most words per caption; longer ones are truncated (default: 99th percentile)")
    parser.add_argument("--stop-on", choices=["loss", "cider"], default=None,
                        help="what picks the best epoch and ends training (--patience): the validation loss, or "
                             "greedy validation CIDEr-D (default: loss)")
    parser.add_argument("--label-smoothing", type=float, default=None, metavar="S",
                        help="spread a share S of each target word's probability over the vocabulary (default: 0)")
    parser.add_argument("--frames", type=positive_int, default=None,
                        help="frames sampled per clip; giving it trains a clip model even on animated GIF/WebP names "
                             f"(default: {DEFAULT_FRAMES} when the caption file names clips, else an image model)")
    add_frame_encoder(parser, "clip models", default=None)
    parser.add_argument("--frame-size", type=positive_int, default=None,
                        help="--frame-encoder cnn: frames are squashed to this many pixels a side (default: 64)")
    parser.add_argument("--cnn-filters", type=positive_int, default=None,
                        help="--frame-encoder cnn: Conv2D filters per block (default: 16)")
    parser.add_argument("--cnn-blocks", type=positive_int, default=None,
                        help="--frame-encoder cnn: Conv2D + MaxPooling2D blocks (default: 3)")
    parser.add_argument("--cnn-dense", type=positive_int, default=None,
                        help="--frame-encoder cnn: units of the Dense after Flatten (default: 64)")
    parser.add_argument("--summary", action="store_true", help="print the model's layers before training")
    parser.add_argument("--objective", choices=["xe", "cider"], default="xe",
                        help="xe: cross-entropy on the reference captions; cider: self-critical training of the "
                             "--init model on its own samples, CIDEr-D as the reward (default: xe)")
    parser.add_argument("--init", metavar="MODEL_DIR", help="with --objective cider: the trained caption model to "
                                                            "fine-tune (its vocabulary, sizes and encoder are kept)")
    parser.add_argument("--samples", type=positive_int, default=None,
                        help="--objective cider: captions sampled per image per step (default: 5)")
    parser.add_argument("--baseline", choices=["mean", "greedy"], default=None,
                        help="--objective cider: what a sample's reward is compared with: the mean reward of the "
                             "image's other samples, or the greedy caption's (default: mean)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out (interrupted, or finished: with a larger --epochs or "
                             "--patience); flags left out keep the run's values, and ones that change its model or "
                             "data are refused")
    add_quiet(parser)


def run(args) -> int:
    from captioner.base.errors import UsageError

    check_dataset_choice(args)
    if (args.objective == "cider") != bool(args.init):
        raise UsageError("--objective cider fine-tunes a trained model: give it --init MODEL_DIR (and --init goes "
                         "with --objective cider only)")
    if args.init:
        if args.labels:
            raise UsageError("--objective cider is for caption models, not activity classifiers")
        return _train_self_critical(args)
    if args.labels:
        return _train_classifier(args)
    from captioner.api.train_job import train_captions
    from captioner.api.training_settings import CaptionTraining
    from captioner.datasets import load_captions

    captions = load_captions(args.captions)
    for line in captions.skipped:
        print(line)
    settings = CaptionTraining(
        **_model_options(args), embed_dim=args.embed_dim, design=args.design, min_count=args.min_count,
        max_length=args.max_length, label_smoothing=args.label_smoothing, stop_on=args.stop_on)
    run, fp = _inputs(args, "decoder", settings)
    frames = run.pick("--frames", args.frames, "decoder.frames", None) or (DEFAULT_FRAMES if captions.kind == "clip"
                                                                           else 0)
    what = f"clips ({frames} frames each, {_frame_encoder(run, args, 'decoder')} frame encoder)" if frames else "images"
    print(f"{captions.layout} captions: {len(captions.captions)} {what}, {captions.num_captions} captions; "
          f"{captions.describe_split()}")
    summary = train_captions(args.out, args.cache, captions, args.images, settings, args.resume, not args.quiet)
    bleu = summary["val_bleu_greedy"]
    print(f"trained {summary['epochs']} epochs (best {summary['best_epoch']}, val loss "
          f"{summary['best_val_loss']:.4f}, {summary['seconds_per_epoch']} s/epoch); {ended_by(summary)}")
    print("validation BLEU (greedy): " + "  ".join(f"BLEU-{n} {bleu[f'bleu{n}']:.4f}" for n in range(1, 5)))
    print(f"model bundle: {args.out}")
    if fp.is_random:
        print("note: trained on RANDOM encoder features; use --weights imagenet for real captions")
    if summary["skipped_images"]:
        print(f"note: {summary['skipped_images']} image(s) could not be read and were left out (named above)")
        return 1
    return 0


def _train_classifier(args) -> int:
    from captioner.api.train_job import train_classifier
    from captioner.api.training_settings import ClassifierTraining
    from captioner.datasets.ucf101 import load_labels

    settings = ClassifierTraining(**_model_options(args))
    run, fp = _inputs(args, "classifier", settings)
    labels = load_labels(args.labels, seed=run.pick("--seed", args.seed, "settings.seed", 0))
    for line in labels.skipped:
        print(line)
    frames = run.pick("--frames", args.frames, "classifier.frames", DEFAULT_FRAMES)
    counts = {s: len(labels.select(s)) for s in ("train", "val", "test")}
    print(f"activity clips: {len(labels.clips)} in {len(labels.classes)} classes ({frames} frames each, "
          f"{_frame_encoder(run, args, 'classifier')} frame encoder); train {counts['train']}, val {counts['val']}, "
          f"test {counts['test']}; split: {labels.split_source}")
    summary = train_classifier(args.out, args.cache, labels, settings, args.resume, not args.quiet)
    print(f"trained {summary['epochs']} epochs (best {summary['best_epoch']}, val loss "
          f"{summary['best_val_loss']:.4f}, {summary['seconds_per_epoch']} s/epoch); validation top-1 "
          f"{summary['val_top1']:.1%}; {ended_by(summary)}")
    print(f"classifier bundle: {args.out}")
    if fp.is_random:
        print("note: trained on RANDOM encoder features; use --weights imagenet for real clips")
    if summary["skipped_clips"]:
        print(f"note: {summary['skipped_clips']} clip(s) could not be read and were left out (named above)")
        return 1
    return 0


def _frame_encoder(run, args, model: str) -> str:
    return run.pick("--frame-encoder", args.frame_encoder, f"{model}.frame_encoder", "lstm")


def _inputs(args, model: str, settings):
    """(the run's choices, the spec of what the model reads: VGG16 features, or pixels for its own CNN), the latter
    printed."""
    from captioner.api.train_job import model_inputs
    from captioner.training.resume import RunChoices

    run = RunChoices(args.out, args.resume)
    fp, _ = model_inputs(run, model, settings)
    print(f"encoder: {fp.describe()}")
    return run, fp


def _model_options(args) -> dict:
    """The choices a caption model and a classifier share, as asked (None: the default, or the resumed run's)."""
    cnn = {name: value for name, value in (("filters", args.cnn_filters), ("blocks", args.cnn_blocks),
                                           ("dense", args.cnn_dense)) if value is not None}
    return dict(seed=args.seed, epochs=args.epochs, patience=args.patience, batch_size=args.batch_size,
                learning_rate=args.learning_rate, weights=args.weights, encoder_seed=args.encoder_seed,
                precision=args.precision, frames=args.frames, frame_encoder=args.frame_encoder,
                frame_size=args.frame_size, cnn=cnn or None, units=args.units, dropout=args.dropout,
                summary=args.summary)


def ended_by(summary: dict) -> str:
    """Which ended training: early stopping, or the --epochs cap (then the model may be undertrained)."""
    patience = summary["settings"].get("patience", 3)
    measure = "validation CIDEr-D" if summary["settings"].get("stop_on") == "cider" else "validation loss"
    if summary["stopped_early"]:
        return f"ended by early stopping (no better {measure} in {patience} epochs)"
    if summary["best_epoch"] == summary["epochs"]:
        return (f"ended by the --epochs cap ({summary['epochs']}) with the {measure} still improving: "
                f"the model may be undertrained; train it further: the same command with --resume --epochs "
                f"{2 * summary['epochs']}")
    since = summary["epochs"] - summary["best_epoch"]
    return f"ended by the --epochs cap ({summary['epochs']}), {since} epochs after the best"


def _train_self_critical(args) -> int:
    from captioner.api.train_job import fine_tune
    from captioner.api.training_settings import FineTuning
    from captioner.datasets import load_captions

    captions = load_captions(args.captions)
    for line in captions.skipped:
        print(line)
    settings = FineTuning(seed=args.seed, epochs=args.epochs, patience=args.patience, batch_size=args.batch_size,
                          learning_rate=args.learning_rate, init=args.init, weights=args.weights,
                          samples=args.samples, baseline=args.baseline)
    summary = fine_tune(args.out, args.cache, captions, args.images, settings, args.resume, not args.quiet)
    ended = ("ended by early stopping" if summary["scst_stopped_early"] else
             f"ended by the --epochs cap ({summary['scst_epochs']})")
    print(f"self-critical training: {summary['scst_epochs']} epochs (best {summary['scst_best_epoch']}, "
          f"validation CIDEr-D {summary['best_val_cider']:.4f}, {summary['scst_seconds_per_epoch']} s/epoch); {ended}")
    if summary["scst_best_epoch"] == 0:
        print("note: no epoch beat the starting model on validation CIDEr-D; the bundle holds the --init weights")
    print(f"model bundle: {args.out}")
    return 1 if summary["skipped_images"] else 0
