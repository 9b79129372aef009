"""Decoder, training steps and the model bundle, on tiny sizes."""

import json
import os

import numpy as np
import pytest

from captioner.features.cache import CacheError, FeatureCache
from captioner.features.encoder import fingerprint
from captioner.models.bundle import BundleError, load_bundle, save_bundle
from captioner.models.decoder import build_decoder, keras
from tests.support.tiny_decoder import tiny
from vocab import Vocabulary

FP = fingerprint("random", 0)


@pytest.mark.parametrize("design", ["inject", "merge"])
def test_step_by_step_equals_whole_caption(design):
    decoder = build_decoder(tiny(design))
    rng = np.random.default_rng(0)
    features = rng.standard_normal((3, 4096)).astype("float32")
    tokens = rng.integers(1, 12, (3, 5)).astype("int32")
    whole = np.asarray(decoder((features, tokens)))  # (3, 5, 12)
    state = decoder.initial_state(features)
    for t in range(5):
        logits, state = decoder.step(tokens[:, t], state)
        np.testing.assert_allclose(np.asarray(logits), whole[:, t], atol=1e-4)


@pytest.mark.parametrize("design", ["inject", "merge"])
def test_a_few_training_steps_lower_the_loss(design):
    keras.utils.set_random_seed(0)
    decoder = build_decoder(tiny(design))
    decoder.compile(optimizer=keras.optimizers.Adam(1e-2),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    rng = np.random.default_rng(0)
    features = rng.standard_normal((16, 4096)).astype("float32")
    tokens = np.zeros((16, 8), "int32")
    tokens[:, 0], tokens[:, 1:5], tokens[:, 5] = 1, rng.integers(4, 12, (16, 4)), 2
    x, y = (features, tokens[:, :-1]), tokens[:, 1:]
    before = decoder.evaluate(x, y, verbose=0)
    decoder.fit(x, y, epochs=30, batch_size=8, verbose=0)
    after = decoder.evaluate(x, y, verbose=0)
    assert after < 0.7 * before


def test_padding_does_not_count_in_the_loss():
    decoder = build_decoder(tiny())
    decoder.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    features = np.ones((1, 4096), "float32")
    short = np.array([[1, 4, 2, 0, 0, 0]], "int32")
    x, y = (features, short[:, :-1]), short[:, 1:]
    loss = decoder.evaluate(x, y, verbose=0)
    logits = np.asarray(decoder(x))[0]
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -(logp[0, 4] + logp[1, 2]) / 2  # only the two real targets
    assert loss == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_token_loss_is_cross_entropy_with_smoothing_over_the_real_tokens_only(smoothing):
    """Per-token mean over the non-padding targets, captions of unequal length in one batch, under model.evaluate."""
    from captioner.training.token_loss import token_loss

    keras.utils.set_random_seed(0)
    decoder = build_decoder(tiny())
    decoder.compile(loss=token_loss(smoothing))
    features = np.random.default_rng(1).standard_normal((2, 4096)).astype("float32")
    tokens = np.array([[1, 4, 2, 0, 0, 0], [1, 5, 6, 7, 2, 0]], "int32")
    x, y = (features, tokens[:, :-1]), tokens[:, 1:]
    loss = decoder.evaluate(x, y, batch_size=2, verbose=0)
    logits = np.asarray(decoder(x)).astype("float64")
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_token = [(1 - smoothing) * -logp[b, t, y[b, t]] + smoothing * -logp[b, t].mean()
                 for b in range(2) for t in range(5) if y[b, t] != 0]
    assert len(per_token) == 6 and loss == pytest.approx(np.mean(per_token), rel=1e-4)
    with pytest.raises(ValueError, match="label smoothing"):
        token_loss(1.0)


def test_smoothed_token_loss_on_a_hand_worked_example():
    """Probabilities 0.1 0.2 0.3 0.4 at each step (V = 4), targets 3, 1 and padding, smoothing 0.2:
    token 1: 0.8 * -ln 0.4 + 0.2 * -(ln 0.1 + ln 0.2 + ln 0.3 + ln 0.4) / 4 = 1.034649
    token 2: 0.8 * -ln 0.2 + 0.2 * (the same spread) = 1.589165; padding counts nowhere: mean of the two."""
    from captioner.training.token_loss import token_loss

    logits = np.log(np.tile([[0.1, 0.2, 0.3, 0.4]], (1, 3, 1))).astype("float32")  # (1, 3, 4)
    y_true = np.array([[3, 1, 0]], "int32")
    assert float(token_loss(0.2)(y_true, logits)) == pytest.approx((1.034649 + 1.589165) / 2, abs=1e-5)
    assert float(token_loss(0.0)(y_true, logits)) == pytest.approx((-np.log(0.4) - np.log(0.2)) / 2, abs=1e-5)


def test_smoothed_token_loss_round_trips_its_config_and_takes_float_labels():
    from captioner.training.token_loss import SmoothedTokenLoss, token_loss

    loss = token_loss(0.2)
    config = loss.get_config()
    assert config["smoothing"] == 0.2 and config["name"] == "smoothed_token_loss" and "reduction" not in config
    again = SmoothedTokenLoss.from_config(config)
    assert (again.smoothing, again.name) == (0.2, "smoothed_token_loss")
    logits = np.log(np.tile([[0.1, 0.2, 0.3, 0.4]], (1, 3, 1))).astype("float32")
    expected = (1.034649 + 1.589165) / 2  # the hand-worked example above
    assert float(loss(np.array([[3.0, 1.0, 0.0]], "float32"), logits)) == pytest.approx(expected, abs=1e-5)
    one_real = np.array([[3, 0, 0]], "int32")  # one real target: divided by 1, not by a floor above it
    assert float(loss(one_real, logits)) == pytest.approx(1.034649, abs=1e-5)
    one_step = logits[:, :1].repeat(2, axis=0)  # two captions of one target each: (B, 1) stays (B, 1)
    assert float(loss(np.array([[3], [1]], "int32"), one_step)) == pytest.approx(expected, abs=1e-5)
    assert SmoothedTokenLoss(0.1, dtype="bfloat16").dtype == "bfloat16"  # Keras' own options pass through
    plain = token_loss()  # no smoothing by default: Keras' own masked cross-entropy
    assert isinstance(plain, keras.losses.SparseCategoricalCrossentropy) and isinstance(token_loss(0.0), type(plain))


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_token_loss_equals_keras_categorical_cross_entropy_with_label_smoothing(smoothing):
    """Keras' CategoricalCrossentropy(label_smoothing=s) on one-hot targets (its own implementation: targets
    y(1 - s) + s / V), averaged over the real target tokens, is what training minimises."""
    from captioner.training.token_loss import token_loss

    keras.utils.set_random_seed(0)
    decoder = build_decoder(tiny())
    decoder.compile(loss=token_loss(smoothing))
    rng = np.random.default_rng(2)
    features = rng.standard_normal((3, 4096)).astype("float32")
    tokens = np.array([[1, 4, 2, 0, 0, 0], [1, 5, 6, 7, 2, 0], [1, 8, 9, 10, 11, 2]], "int32")
    x, y = (features, tokens[:, :-1]), tokens[:, 1:]
    loss = decoder.evaluate(x, y, batch_size=3, verbose=0)
    logits = np.asarray(decoder(x)).astype("float32")
    reference = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing, reduction=None)
    per_token = np.asarray(reference(np.eye(12, dtype="float32")[y], logits))  # (3, 5)
    assert loss == pytest.approx(float(per_token[y != 0].mean()), rel=1e-4)


def _bundle(tmp_path):
    vocab = Vocabulary.build(["a red circle", "a blue square on the left"])
    decoder = build_decoder(tiny(vocab_size=len(vocab)))
    save_bundle(str(tmp_path / "m"), decoder, vocab, FP, {"epochs": 1})
    return decoder, vocab, str(tmp_path / "m")


def test_bundle_round_trip(tmp_path):
    decoder, vocab, path = _bundle(tmp_path)
    assert sorted(os.listdir(path)) == ["config.json", "decoder.weights.h5", "vocab.json"]
    bundle = load_bundle(path)
    assert bundle.vocab.tokens == vocab.tokens and bundle.config == decoder.config and bundle.encoder == FP
    features = np.ones((2, 4096), "float32")
    tokens = np.ones((2, 3), "int32")
    np.testing.assert_allclose(np.asarray(bundle.decoder((features, tokens))), np.asarray(decoder((features, tokens))),
                               atol=1e-6)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["format"] == "captioner.model" and config["decoder"]["units"] == 16


def test_bundle_mismatches_are_refused(tmp_path):
    _, vocab, path = _bundle(tmp_path)
    cache_dir = str(tmp_path / "cache")
    FeatureCache.open(cache_dir, fingerprint("random", 1), writable=True).close()
    with pytest.raises(CacheError, match="different encoder"):  # a cache from another encoder than the model's
        FeatureCache.open(cache_dir, load_bundle(path).encoder)
    # a changed vocabulary no longer matches the hashes in config.json
    Vocabulary.build(["something else entirely"]).save(os.path.join(path, "vocab.json"))
    with pytest.raises(BundleError, match="vocab.json: does not match config.json"):
        load_bundle(path)
    os.unlink(os.path.join(path, "config.json"))
    with pytest.raises(BundleError, match="not a model bundle"):
        load_bundle(path)
    with pytest.raises(BundleError, match="no such model directory"):
        load_bundle(str(tmp_path / "nothing"))


@pytest.mark.parametrize("design", ["inject", "merge"])
def test_inference_step_equals_step(design):
    decoder = build_decoder(tiny(design))
    rng = np.random.default_rng(1)
    features = rng.standard_normal((2, 4096)).astype("float32")
    vocab = decoder.vocab_size
    logit_bias = rng.standard_normal(vocab + 3).astype("float32")  # 3 padding columns, as a beam search asks
    fast = decoder.inference_step(decoder.search_tables(logit_bias))
    a = b = decoder.initial_state(features)
    for token in ([1, 1], [5, 7], [2, 9]):
        la, a = decoder.step(np.array(token), a)
        lb, b = fast(np.array(token), b)
        np.testing.assert_allclose(np.asarray(lb)[:, :vocab], np.asarray(la) + logit_bias[:vocab], atol=1e-5)
        np.testing.assert_allclose(np.asarray(lb)[:, vocab:], np.broadcast_to(logit_bias[vocab:], (2, 3)), atol=1e-6)


def test_validation_bleu_after_an_epoch_sees_the_weights_of_that_epoch():
    """The per-epoch search is compiled once; it must read the live weights, not the first ones."""
    from captioner.evaluation.cider_d import CiderD
    from captioner.evaluation.metrics import corpus_bleu_scores
    from captioner.evaluation.ptb_tokens import PtbTokenizer
    from captioner.search.captioning import Captioner
    from captioner.training.validation_bleu import ValidationBleu

    vocab = Vocabulary.build(["a red circle", "a blue square on the left"])
    decoder = build_decoder(tiny(vocab_size=len(vocab)))
    features = np.random.default_rng(0).normal(size=(4, 4096)).astype("float32")
    references = [["a red circle", "a blue square"]] * 2 + [["a blue square on the left"]] * 2  # CIDEr-D needs IDF
    per_epoch = ValidationBleu(vocab, features, references, "float32")
    before = per_epoch(decoder)
    bias = np.full(len(vocab), -10.0, "float32")
    bias[[vocab.id("red"), vocab.id("circle")]] = 10.0  # "training" that changes the captions
    bias[vocab.id("<end>")] = 9.0
    decoder.classifier.bias.assign(bias)
    after = per_epoch(decoder)
    fresh = corpus_bleu_scores(references, Captioner(decoder, vocab).best(features))
    assert after != before
    assert {k: after[k] for k in ("val_bleu1", "val_bleu4")} == \
        {"val_bleu1": round(fresh["bleu1"], 4), "val_bleu4": round(fresh["bleu4"], 4)}
    tokens = PtbTokenizer()
    cider = CiderD([[tokens(r) for r in refs] for refs in references])
    fresh_cider = np.mean(cider.scores([tokens(c) for c in Captioner(decoder, vocab).best(features)], range(4)))
    assert after["val_cider"] == round(float(fresh_cider), 4) and after["val_cider"] > 0
    rng = np.random.default_rng(3)  # every weight changed, the initial state's too: the captions follow
    for variable in decoder.weights:
        variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    assert per_epoch.captions(decoder) == Captioner(decoder, vocab).best(features)
