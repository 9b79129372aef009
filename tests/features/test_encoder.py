import numpy as np
import pytest

from captioner.features.encoder import DIM, Encoder, fingerprint, preprocess


def test_output_is_fc2_4096_and_frozen(random_encoder):
    assert random_encoder.model.output.shape[1:] == (DIM,)
    cnn = random_encoder.model.get_layer("vgg16_fc2")
    assert cnn.layers[-1].name == "fc2"  # not the 1,000-way predictions layer
    assert random_encoder.model.trainable_weights == []
    batch = np.random.default_rng(0).integers(0, 256, (3, 224, 224, 3), dtype=np.uint8)
    out = random_encoder.encode(batch)
    assert out.shape == (3, DIM) and out.dtype == np.float32 and np.isfinite(out).all()
    assert not np.allclose(out[0], out[1])


def test_random_weights_are_deterministic_under_a_seed():
    """On the tiny VGG16 (the same seeded init and build; the full one's seed-0 weights are checked against
    keras.applications' model in test_built_from_arrays_equals_keras_applications)."""
    batch = np.random.default_rng(1).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    first = Encoder("random-tiny", seed=0).encode(batch)
    np.testing.assert_allclose(Encoder("random-tiny", seed=0).encode(batch), first, rtol=1e-5, atol=1e-4)
    assert not np.allclose(Encoder("random-tiny", seed=1).encode(batch), first)


def test_fingerprint_records_weights_and_preprocessing():
    fp = fingerprint("random", 7)
    assert fp.weights == "random" and "seed=7" in fp.weights_id and fp.seed == 7
    assert fp.layer == "fc2" and fp.dim == 4096 and fp.preprocessing.channel_order == "BGR"
    assert fingerprint("random", 7) != fingerprint("random", 8) != fingerprint("imagenet")


def test_preprocess_is_bgr_minus_mean():
    pixel = np.array([[[[10, 20, 30]]]], dtype=np.uint8)
    np.testing.assert_allclose(preprocess(pixel)[0, 0, 0], [30 - 103.939, 20 - 116.779, 10 - 123.68], rtol=1e-6)


def test_in_graph_preprocessing_matches_the_recorded_recipe(random_encoder):
    batch = np.random.default_rng(2).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    cnn = random_encoder.model.get_layer("vgg16_fc2")
    np.testing.assert_allclose(random_encoder.encode(batch), np.asarray(cnn.predict_on_batch(preprocess(batch))),
                               rtol=1e-4, atol=1e-3)


def test_bf16_features_match_fp32(random_encoder, shared_data):
    """Mixed bf16 keeps float32 weights and computes in 16 bits: measured cosine >= 0.99996 on real photos."""
    from captioner.inputs.images import load_image

    photos = sorted((shared_data / "flickr8k_sample" / "Images").glob("*.jpg"))[:3]
    batch = np.stack([load_image(str(p)) for p in photos])
    mixed = Encoder("random", seed=0, precision="bf16")
    assert mixed.fingerprint.precision == "bf16" and random_encoder.fingerprint.precision == "fp32"
    a, b = random_encoder.encode(batch), mixed.encode(batch)
    assert b.dtype == np.float32 and b.shape == a.shape
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.9995, cosine
    assert not np.array_equal(a, b)  # it really ran in 16 bits


def test_precision_is_part_of_the_encoder_identity(tmp_path):
    import json

    from captioner.features.cache import CacheError, FeatureCache

    assert fingerprint("random", precision="bf16") != fingerprint("random")
    d = tmp_path / "c"
    FeatureCache.open(str(d), fingerprint("random", precision="bf16"), writable=True).close()
    with pytest.raises(CacheError, match="precision: cache has 'bf16', requested 'fp32'.*--precision"):
        FeatureCache.open(str(d), fingerprint("random"))
    # A cache written before --precision existed holds fp32 features and still opens as one.
    old = tmp_path / "old"
    FeatureCache.open(str(old), fingerprint("random"), writable=True).close()
    meta = json.loads((old / "cache.json").read_text())
    del meta["fingerprint"]["precision"]
    (old / "cache.json").write_text(json.dumps(meta))
    assert FeatureCache.open(str(old), fingerprint("random")).fingerprint.precision == "fp32"


@pytest.mark.slow
@pytest.mark.backend_independent  # the same Keras layers; the encoder's output per backend: the tests above
def test_built_from_arrays_equals_keras_applications(random_encoder, tmp_path):
    """Our VGG16 (built straight from its arrays) against keras.applications' VGG16: the seeded random weights
    give the same features as before, and a weights file in the layout keras.applications ships (the ImageNet
    file's) loads to the same model as keras.applications loads it."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    from captioner.base.backend import import_keras
    from captioner.features.encoder import _random_weights

    keras = import_keras()
    full = keras.applications.VGG16(weights=None, include_top=True)
    fc2 = keras.Model(full.input, full.get_layer("fc2").output)
    fc2.set_weights(_random_weights([tuple(w.shape) for w in fc2.weights], 0))
    batch = np.random.default_rng(4).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    ours = random_encoder.model.get_layer("vgg16_fc2")  # the network without the in-graph preprocessing
    np.testing.assert_array_equal(np.asarray(ours.predict_on_batch(preprocess(batch))),
                                  np.asarray(fc2.predict_on_batch(preprocess(batch))))

    path = str(tmp_path / "vgg16.h5")
    with h5py.File(path, "w") as f:  # what keras.applications' ImageNet file is: Keras' HDF5 weights layout
        legacy_h5_format.save_weights_to_hdf5_group(f, full)
    from_file = Encoder(path)
    assert from_file.fingerprint.weights == "file"
    np.testing.assert_array_equal(from_file.encode(batch), random_encoder.encode(batch))

    # A file in another layout (Keras 3's own .weights.h5) is read through keras.applications' model instead.
    keras3 = str(tmp_path / "vgg16.weights.h5")
    full.save_weights(keras3)
    np.testing.assert_array_equal(Encoder(keras3).encode(batch), random_encoder.encode(batch))


def test_tiny_encoder_is_vgg16s_layers_at_a_sixteenth_of_the_width(random_encoder):
    """`random-tiny` (the tests' encoder): the same layers, 64-d features, its own identity everywhere."""
    from captioner.features.encoder import weights_option
    from captioner.features.features_for import encoder_args

    tiny = Encoder("random-tiny", seed=3)
    names = [layer.name for layer in tiny.model.get_layer("vgg16_fc2").layers]
    assert names == [layer.name for layer in random_encoder.model.get_layer("vgg16_fc2").layers]
    assert tiny.model.get_layer("vgg16_fc2").get_layer("block1_conv1").filters == 4
    assert tiny.model.trainable_weights == []
    batch = np.random.default_rng(5).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    out = tiny.encode(batch)
    assert out.shape == (2, 64) and out.dtype == np.float32 and not np.allclose(out[0], out[1])
    fp = tiny.fingerprint
    assert fp.architecture == "VGG16-tiny" and fp.dim == 64 and fp.weights == "random"
    assert fp != fingerprint("random", 3) and "tiny VGG16" in fp.describe() and "RANDOM" in fp.describe()
    # a bundle or cache made with it rebuilds it, never the full VGG16 under the same seed
    assert encoder_args(fp) == ("random-tiny", 3, "fp32")
    assert weights_option(fingerprint("random")) == "random" and weights_option(fingerprint("imagenet")) == "imagenet"
    np.testing.assert_array_equal(Encoder(*encoder_args(fp)).encode(batch), out)
