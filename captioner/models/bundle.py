"""The model bundle: a directory of plain files, loaded without running any code from it.

    config.json         format, version, decoder settings, encoder fingerprint, training summary, and the
                        sha256 of the two files below (written last: a bundle without it is unfinished)
    vocab.json          the Vocabulary
    decoder.weights.h5  the decoder's weights (Keras weights-only HDF5: arrays, no code, no pickle)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from captioner.base.atomic import atomic_path, write_json
from captioner.base.errors import UsageError
from captioner.base.hashing import file_sha256
from captioner.base.jsonfile import read_versioned
from captioner.features.encoder import with_defaults
from vocab import Vocabulary, VocabularyError

FORMAT = "captioner.model"
# 2 added clip models (decoder "frames", "frame_encoder"); 3 models with their own CNN ("cnn", an "encoder" that
# is a pixel recipe). Older bundles still load: what they lack has its old meaning by default.
VERSION = 3
OLDER_VERSIONS = (1, 2)
CONFIG, VOCAB, WEIGHTS = "config.json", "vocab.json", "decoder.weights.h5"
# Files that can carry code (pickle, whole saved models, Python): a bundle holding one is refused outright.
CODE_BEARING = (".pkl", ".pickle", ".dill", ".joblib", ".keras", ".pb", ".pt", ".pth", ".py", ".pyc", ".so")


class BundleError(UsageError):
    """A model bundle that cannot be used; the message names the directory or file."""


@dataclass
class Bundle:
    directory: str
    decoder: object  # captioner.models.decoder.CaptionDecoder
    vocab: Vocabulary
    config: object  # captioner.models.decoder.DecoderConfig
    encoder: dict  # the encoder fingerprint the decoder was trained on
    training: dict  # summary: epochs, losses, BLEU, dataset

    @property
    def feature_dtype(self) -> str:
        """The dtype of the cache the decoder was trained on (fresh features are rounded to it)."""
        return self.training.get("feature_dtype", "float32")

    @property
    def frames(self) -> int:
        """0 for an image model; N for a clip model (each clip read as N frames)."""
        return self.config.frames

    @property
    def takes(self) -> str:
        return f"clips of {self.frames} frames" if self.frames else "images"


def save_bundle(directory: str, decoder, vocab: Vocabulary, encoder: dict, training: dict) -> None:
    """Write the three files so that a reader never sees a mixed or half-written bundle."""
    os.makedirs(directory, exist_ok=True)
    config_path = os.path.join(directory, CONFIG)
    if os.path.exists(config_path):
        os.unlink(config_path)  # from now until the new config lands, the directory is "unfinished"
    vocab.save(os.path.join(directory, VOCAB))
    with atomic_path(os.path.join(directory, WEIGHTS), suffix=".weights.h5") as tmp:
        _without_optimizer(decoder).save_weights(tmp)
    write_json(config_path, {
        "format": FORMAT,
        "version": VERSION,
        "decoder": decoder.config.to_json(),
        "encoder": encoder,
        "training": training,
        "sha256": {VOCAB: file_sha256(os.path.join(directory, VOCAB)),
                   WEIGHTS: file_sha256(os.path.join(directory, WEIGHTS))},
    })


def _without_optimizer(decoder):
    """A copy holding only the layer weights: the bundle carries no optimizer state."""
    from captioner.models.decoder import build_decoder

    plain = build_decoder(decoder.config)
    plain.set_weights(decoder.get_weights())
    return plain


def read_config(directory: str) -> dict:
    path = os.path.join(directory, CONFIG)
    if not os.path.isdir(directory):
        raise BundleError(f"{directory}: no such model directory")
    if not os.path.exists(path):
        if os.path.exists(os.path.join(directory, "cache.json")):
            raise BundleError(f"{directory}: a feature cache, not a model bundle (it holds cache.json): give it as "
                              "--cache, and the folder train wrote as --model")
        hint = " (training unfinished? run train again with --resume)" if os.path.isdir(
            os.path.join(directory, "checkpoints")) else ""
        raise BundleError(f"{directory}: not a model bundle: no {CONFIG}{hint}")
    config = read_versioned(path, FORMAT, VERSION, BundleError, "model config", OLDER_VERSIONS)
    for key in ("classifier" if "classifier" in config else "decoder", "encoder", "sha256"):
        if not isinstance(config.get(key), dict):
            raise BundleError(f"{path}: missing {key!r}")
    return config


def check_files(directory: str, config: dict, names: tuple[str, ...]) -> None:
    """No file that can carry code; each named file present and matching its hash in config.json."""
    for name in sorted(os.listdir(directory)):
        if name.lower().endswith(CODE_BEARING):
            raise BundleError(f"{os.path.join(directory, name)}: refusing a bundle that holds a file which can carry "
                              f"code; a bundle is {CONFIG} + {' + '.join(names)} only")
    for name in names:
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            raise BundleError(f"{path}: missing from the bundle")
        if file_sha256(path) != config["sha256"].get(name):
            raise BundleError(f"{path}: does not match {CONFIG} (changed or half-written); retrain or restore it")


def _caption_model_config(directory: str) -> dict:
    config = read_config(directory)
    if "classifier" in config:
        raise BundleError(f"{directory}: an activity classifier, not a caption model; use `classify`, or "
                          "`evaluate --labels`")
    return config


def read_encoder(directory: str) -> dict:
    """The encoder fingerprint of a caption model, without loading the decoder (to build both at once)."""
    return with_defaults(_caption_model_config(directory)["encoder"])


def load_bundle(directory: str) -> Bundle:
    """Rebuild the decoder from config.json and load its weights; every mismatch is a BundleError."""
    from captioner.models.decoder import DecoderConfig, build_decoder

    config = _caption_model_config(directory)
    check_files(directory, config, (VOCAB, WEIGHTS))
    try:
        vocab = Vocabulary.load(os.path.join(directory, VOCAB))
        decoder_config = DecoderConfig.from_json(config["decoder"])
    except (VocabularyError, ValueError, TypeError) as exc:
        raise BundleError(f"{directory}: {exc}") from None
    if len(vocab) != decoder_config.vocab_size:
        raise BundleError(f"{directory}: vocab.json has {len(vocab)} tokens, the decoder expects {decoder_config.vocab_size}")
    if decoder_config.feature_dim != config["encoder"].get("dim"):
        raise BundleError(f"{directory}: decoder expects {decoder_config.feature_dim}-d features, "
                          f"the encoder gives {config['encoder'].get('dim')}")
    decoder = build_decoder(decoder_config)
    try:
        decoder.load_weights(os.path.join(directory, WEIGHTS), skip_mismatch=False)
    except Exception as exc:  # h5py/Keras raise many types; the user needs the file and the reason
        raise BundleError(f"{os.path.join(directory, WEIGHTS)}: cannot load weights ({str(exc).splitlines()[0][:200]})") from None
    return Bundle(directory, decoder, vocab, decoder_config, with_defaults(config["encoder"]), config.get("training", {}))
