"""A bundle's config.json, read once into a BundleInfo that `captioner.load`, both bundle kinds and the server's
model facts share; a bundle of the other kind is refused from it, before any model is built."""

import builtins
import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import captioner
from captioner.features.encoder import fingerprint
from captioner.models.bundle import BundleError, save_bundle
from captioner.models.bundle_info import BundleInfo, read_bundle_info
from captioner.models.classifier import ClassifierConfig, build_classifier
from captioner.models.classifier_bundle import save_classifier_bundle
from captioner.models.decoder import DecoderConfig, build_decoder
from captioner.serving.model_facts import facts_of_bundle
from vocab import Vocabulary

TINY = fingerprint("random-tiny", 0)  # 64-d features


@pytest.fixture
def caption_bundle(tmp_path):
    vocab = Vocabulary.build(["a red circle", "a blue square on the left"])
    config = DecoderConfig(vocab_size=len(vocab), max_length=6, feature_dim=64, units=8, embed_dim=8, dropout=0.0)
    save_bundle(str(tmp_path / "captions"), build_decoder(config), vocab, TINY, {"epochs": 2, "captions": "/x/c.txt"})
    return str(tmp_path / "captions")


@pytest.fixture
def classifier_bundle(tmp_path):
    model = build_classifier(ClassifierConfig(classes=3, frames=4, feature_dim=64, units=8, dropout=0.0))
    model.set_frame_statistics(np.random.default_rng(1).normal(size=(20, 64)))
    save_classifier_bundle(str(tmp_path / "labels"), model, ["run", "jump", "swim"], TINY, {"epochs": 1})
    return str(tmp_path / "labels")


def _config_reads(monkeypatch, directory: str) -> list:
    """Every open() of `directory`'s config.json from here on."""
    reads, real_open = [], builtins.open
    config = os.path.realpath(os.path.join(directory, "config.json"))

    def counting_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.path.realpath(file) == config:
            reads.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    return reads


def test_the_info_holds_the_kind_the_model_settings_the_encoder_and_the_hashes(caption_bundle, classifier_bundle):
    info = read_bundle_info(caption_bundle)
    assert (info.kind, info.is_classifier, info.frames, info.encoder, info.version) == ("caption", False, 0, TINY, 3)
    assert info.files == ("vocab.json", "decoder.weights.h5") and set(info.sha256) == set(info.files)
    assert info.model_config.vocab_size == 12 and info.training == {"epochs": 2, "captions": "/x/c.txt"}
    labels = read_bundle_info(classifier_bundle)
    assert (labels.kind, labels.is_classifier, labels.frames, labels.encoder) == ("classifier", True, 4, TINY)
    assert labels.files == ("labels.json", "classifier.weights.h5") and set(labels.sha256) == set(labels.files)
    assert labels.expect("classifier") is labels and labels.expect(None) is labels


@pytest.mark.parametrize("kind", ["caption", "classifier"])
def test_captioner_load_reads_config_json_once(monkeypatch, caption_bundle, classifier_bundle, kind):
    directory = caption_bundle if kind == "caption" else classifier_bundle
    reads = _config_reads(monkeypatch, directory)
    model = captioner.load(directory, compile_search=False, expect=kind, announce=False)
    assert len(reads) == 1 and model.encoder_spec == TINY and model.encoder_spec.describe().startswith("RANDOM")


def test_the_other_kind_is_refused_from_the_info_before_any_model_is_built(monkeypatch, caption_bundle,
                                                                          classifier_bundle):
    def no_building(*args, **kwargs):
        raise AssertionError("a model was built for a bundle of the wrong kind")

    monkeypatch.setattr("captioner.models.decoder.build_decoder", no_building)
    monkeypatch.setattr("captioner.models.classifier.build_classifier", no_building)
    with pytest.raises(BundleError) as error:
        captioner.load(classifier_bundle, expect="caption")
    assert str(error.value) == (f"{classifier_bundle}: an activity classifier, not a caption model; use `classify`, "
                                "or `evaluate --labels`")
    with pytest.raises(BundleError) as error:
        captioner.load(caption_bundle, expect="classifier")
    assert str(error.value) == (f"{caption_bundle}: a caption model, not an activity classifier; use `caption`, or "
                                "`evaluate --captions`")


def test_the_servers_facts_come_from_the_info(caption_bundle, classifier_bundle):
    facts = facts_of_bundle(caption_bundle)
    assert (facts.kind, facts.frames, facts.vocabulary, facts.classes, facts.encoder) == ("captions", 0, 12, None, TINY)
    assert facts.training == {"epochs": 2, "captions": "c.txt"} and facts.random_encoder and facts.input_size == 224
    labels = facts_of_bundle(classifier_bundle)
    assert (labels.kind, labels.frames, labels.classes, labels.vocabulary) == ("labels", 4, ["run", "jump", "swim"],
                                                                              None)
    path = os.path.join(classifier_bundle, "labels.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"format": "captioner.labels", "version": 1, "classes": ["run", "jump"]}, f)
    with pytest.raises(BundleError, match=f"^{path}: expected 3 class names$"):
        facts_of_bundle(classifier_bundle)


def test_a_broken_encoder_in_config_json_is_refused_naming_the_file(caption_bundle):
    path = os.path.join(caption_bundle, "config.json")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    config["encoder"]["dim"] = "64"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f)
    with pytest.raises(BundleError) as error:
        read_bundle_info(caption_bundle)
    assert str(error.value) == f"{path}: encoder fingerprint: dim '64' is not a whole number"


def test_a_bundle_written_through_the_info_keeps_the_config_json_of_the_release_before(caption_bundle):
    with open(os.path.join(caption_bundle, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    assert list(config) == ["format", "version", "decoder", "encoder", "training", "sha256"]
    assert config["encoder"] == TINY.to_json() and config["version"] == 3
    info = read_bundle_info(caption_bundle)
    assert dataclasses.replace(info, directory="elsewhere") != info and isinstance(info, BundleInfo)


@pytest.mark.backend_independent
def test_a_bundle_is_read_and_its_facts_told_without_keras(caption_bundle):
    """What a Ray ingress (and the runtime without TensorFlow) does: the info and the facts, no Keras imported."""
    code = ("import sys; from captioner.serving.model_facts import facts_of_bundle; "
            f"facts = facts_of_bundle({caption_bundle!r}); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow', 'jax'}), facts.vocabulary, "
            "facts.encoder.describe()[:6])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[] 12 RANDOM\n"
