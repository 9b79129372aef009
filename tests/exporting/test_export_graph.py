"""The exported function itself: pixels -> encoder -> features rounded to the training cache's dtype -> the
search, returning every beam; checked against the Searcher on the same features with a random decoder."""

import numpy as np
import pytest

from captioner.models.model_configs import DecoderConfig

pytestmark = pytest.mark.backend_independent  # tf.function tracing: TensorFlow whatever the backend

DIM = 16


@pytest.fixture(scope="module")
def parts():
    """A decoder with random weights and an 'encoder' giving features 1000 + pixel / 100: values where float16's
    steps are 0.5, so rounding to float16 moves them by up to 0.25 (the decoder's layer norm makes that count)."""
    from captioner.base.backend import import_keras
    from captioner.models.decoder import build_decoder

    keras = import_keras()
    pixels = keras.Input((4, 4, 3), dtype="uint8")
    flat = keras.layers.Flatten()(keras.ops.cast(pixels, "float32"))
    encoder = keras.Model(pixels, 1000.0 + flat[:, :DIM] / 100.0)
    keras.utils.set_random_seed(3)
    decoder = build_decoder(DecoderConfig(vocab_size=30, max_length=6, feature_dim=DIM, units=16, embed_dim=8,
                                          dropout=0.0))
    images = np.random.default_rng(0).integers(0, 256, (6, 4, 4, 3), dtype=np.uint8)
    features = 1000.0 + images.reshape(6, -1)[:, :DIM].astype(np.float32) / 100.0
    return encoder, decoder, images, features


def searched(decoder, features, beam):
    from captioner.search.searcher import Searcher, SearchSettings

    ranked = Searcher(decoder, 6, SearchSettings(beam_size=beam, num_captions=beam), compiled=False)(features)
    return np.array([[t for t, _ in r] for r in ranked]), np.array([[p for _, p in r] for r in ranked])


@pytest.mark.parametrize("beam", [1, 3])
@pytest.mark.parametrize("feature_dtype", ["float16", "float32"])
def test_the_graph_searches_the_features_rounded_as_caption_rounds_them(parts, beam, feature_dtype):
    from captioner.exporting.graph import caption_function

    encoder, decoder, images, features = parts
    graph = caption_function(encoder, decoder, beam, 6, feature_dtype, 4)
    want_tokens, want_log_probs = searched(decoder, features.astype(feature_dtype).astype(np.float32), beam)
    for out in (graph.fed(images, *graph.weights().values()), graph.frozen()(images)):
        assert out["tokens"].shape == (6, beam, 8) and out["log_probs"].shape == (6, beam)
        assert np.array_equal(out["tokens"].numpy(), want_tokens)
        assert np.allclose(out["log_probs"].numpy(), want_log_probs, atol=1e-5)
    if feature_dtype == "float16":  # the rounding matters here: unrounded features score otherwise
        _, unrounded = searched(decoder, features, beam)
        assert np.abs(unrounded - want_log_probs).max() > 1e-3
