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
from captioner.base.hashing import file_sha256
from captioner.features.encoder_spec import EncoderSpec
from captioner.models.bundle_info import (CAPTION, CONFIG, FILES, BundleError, BundleInfo, bundle_config,
                                          read_bundle_info)
from vocab import Vocabulary, VocabularyError

VOCAB, WEIGHTS = FILES[CAPTION]
# Files that can carry code (pickle, whole saved models, Python): a bundle holding one is refused outright.
CODE_BEARING = (".pkl", ".pickle", ".dill", ".joblib", ".keras", ".pb", ".pt", ".pth", ".py", ".pyc", ".so")


@dataclass
class Bundle:
    directory: str
    decoder: object  # captioner.models.decoder.CaptionDecoder
    vocab: Vocabulary
    config: object  # captioner.models.decoder.DecoderConfig
    encoder: EncoderSpec  # the encoder the decoder was trained on
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


def save_bundle(directory: str, decoder, vocab: Vocabulary, encoder: EncoderSpec, training: dict) -> None:
    """Write the three files so that a reader never sees a mixed or half-written bundle."""
    os.makedirs(directory, exist_ok=True)
    config_path = os.path.join(directory, CONFIG)
    if os.path.exists(config_path):
        os.unlink(config_path)  # from now until the new config lands, the directory is "unfinished"
    vocab.save(os.path.join(directory, VOCAB))
    with atomic_path(os.path.join(directory, WEIGHTS), suffix=".weights.h5") as tmp:
        _without_optimizer(decoder).save_weights(tmp)
    write_json(config_path, bundle_config(decoder.config, encoder, training,
                                          {name: file_sha256(os.path.join(directory, name)) for name in FILES[CAPTION]}))


def _without_optimizer(decoder):
    """A copy holding only the layer weights: the bundle carries no optimizer state."""
    from captioner.models.decoder import build_decoder

    plain = build_decoder(decoder.config)
    plain.set_weights(decoder.get_weights())
    return plain


def check_files(info: BundleInfo) -> None:
    """No file that can carry code; each of the kind's files present and matching its hash in config.json."""
    for name in sorted(os.listdir(info.directory)):
        if name.lower().endswith(CODE_BEARING):
            raise BundleError(f"{info.path(name)}: refusing a bundle that holds a file which can carry code; a "
                              f"bundle is {CONFIG} + {' + '.join(info.files)} only")
    for name in info.files:
        path = info.path(name)
        if not os.path.isfile(path):
            raise BundleError(f"{path}: missing from the bundle")
        if file_sha256(path) != info.sha256.get(name):
            raise BundleError(f"{path}: does not match {CONFIG} (changed or half-written); retrain or restore it")


def load_bundle(directory: str | BundleInfo) -> Bundle:
    """Rebuild the decoder from config.json (or its info, already read) and load its weights; every mismatch is
    a BundleError."""
    from captioner.models.decoder import build_decoder

    info = (directory if isinstance(directory, BundleInfo) else read_bundle_info(directory)).expect(CAPTION)
    directory = info.directory
    check_files(info)
    decoder_config = info.model_config
    try:
        vocab = Vocabulary.load(info.path(VOCAB))
    except VocabularyError as exc:
        raise BundleError(f"{directory}: {exc}") from None
    if len(vocab) != decoder_config.vocab_size:
        raise BundleError(f"{directory}: vocab.json has {len(vocab)} tokens, the decoder expects {decoder_config.vocab_size}")
    if decoder_config.feature_dim != info.encoder.dim:
        raise BundleError(f"{directory}: decoder expects {decoder_config.feature_dim}-d features, "
                          f"the encoder gives {info.encoder.dim}")
    decoder = build_decoder(decoder_config)
    try:
        decoder.load_weights(info.path(WEIGHTS), skip_mismatch=False)
    except Exception as exc:  # h5py/Keras raise many types; the user needs the file and the reason
        raise BundleError(f"{info.path(WEIGHTS)}: cannot load weights ({str(exc).splitlines()[0][:200]})") from None
    return Bundle(directory, decoder, vocab, decoder_config, info.encoder, info.training)
