"""The encoder's spec (the "fingerprint" caches and bundles record): the same JSON as files written before it was a
type, compared by value, with each way a recorded one can be broken refused in one line naming the file."""

import json

import pytest

from captioner.features.cache import CacheError, FeatureCache
from captioner.features.encoder import fingerprint, weights_option
from captioner.features.encoder_spec import EncoderSpec, PixelSpec, SpecError, spec_from_json
from captioner.features.pixels import pixel_fingerprint

pytestmark = pytest.mark.backend_independent  # a dataclass and JSON: no Keras

# What the release before EncoderSpec wrote for `--weights random` (a cache's and a bundle's "fingerprint"), and
# for `--frame-encoder cnn --frame-size 16`: key for key, in this order.
WRITTEN_RANDOM = ('{"architecture": "VGG16", "layer": "fc2", "dim": 4096, "weights": "random", "weights_id": '
                  '"seed=0 he-uniform-numpy-v1", "preprocessing": {"input_size": 224, "resize": "squash-bilinear", '
                  '"channel_order": "BGR", "mean": [103.939, 116.779, 123.68], "scale": 1.0}, "precision": "fp32"}')
WRITTEN_PIXELS = ('{"architecture": "frames-as-pixels", "layer": "pixels", "dim": 768, "weights": "none", '
                  '"weights_id": "trained with the model (its own CNN)", "preprocessing": {"input_size": 16, "resize": '
                  '"squash-bilinear", "channel_order": "RGB", "values": "uint8 0-255", "scaling": "in the model: minus '
                  'its training frames\' mean frame, over their spread"}, "precision": "fp32"}')


def test_a_spec_writes_what_the_release_before_it_wrote_and_reads_it_back_equal():
    assert json.dumps(fingerprint("random", 0).to_json()) == WRITTEN_RANDOM
    assert json.dumps(pixel_fingerprint(16).to_json()) == WRITTEN_PIXELS
    assert spec_from_json(json.loads(WRITTEN_RANDOM)) == fingerprint("random", 0)
    assert spec_from_json(json.loads(WRITTEN_PIXELS)) == pixel_fingerprint(16)
    for spec in (fingerprint("imagenet"), fingerprint("random-tiny", 4), fingerprint("random", 2, "bf16"),
                 pixel_fingerprint(64)):
        back = spec_from_json(json.loads(json.dumps(spec.to_json())))
        assert back == spec and type(back) is type(spec) and hash(back) == hash(spec)


def test_specs_compare_by_value_and_each_kind_says_what_it_is():
    assert fingerprint("random", 3) == fingerprint("random", 3) != fingerprint("random", 4)
    assert fingerprint("random", 3, "fp16") != fingerprint("random", 3)
    assert isinstance(pixel_fingerprint(16), PixelSpec) and pixel_fingerprint(16) != pixel_fingerprint(32)
    pixels, tiny, imagenet = pixel_fingerprint(16), fingerprint("random-tiny", 12), fingerprint("imagenet")
    assert (pixels.is_pixels, tiny.is_pixels, pixels.is_random, tiny.is_random, imagenet.is_random) == \
        (True, False, False, True, False)
    assert (tiny.seed, imagenet.seed, pixels.frame_size, pixels.input_size, tiny.input_size, tiny.dim) == \
        (12, 0, 16, 16, 224, 64)
    assert (weights_option(tiny), weights_option(fingerprint("random")), weights_option(imagenet)) == \
        ("random-tiny", "random", "imagenet")
    assert tiny.describe() == ("RANDOM weights (seed=12 he-uniform-numpy-v1, tiny VGG16) - not ImageNet; captions "
                               "will be poor on real photos")
    assert fingerprint("imagenet", precision="bf16").describe() == \
        "VGG16 fc2 imagenet (vgg16_weights_tf_dim_ordering_tf_kernels.h5 md5:64373286793e3c8b2b4e3219cbf3544b, bf16)"
    assert pixels.describe() == "no pretrained encoder: frames as 16x16 RGB pixels, read by the model's own CNN"


def test_the_difference_names_each_field_that_differs_with_each_sides_words():
    have, want = fingerprint("random", 1, "bf16"), fingerprint("random", 1)
    assert have.difference(want, "model has", "given") == "precision: model has 'bf16', given 'fp32'"
    assert pixel_fingerprint(8).difference(pixel_fingerprint(16)) == (
        "dim: cache has 192, requested 768; preprocessing: cache has {'input_size': 8, 'resize': 'squash-bilinear', "
        "'channel_order': 'RGB', 'values': 'uint8 0-255', 'scaling': \"in the model: minus its training frames' mean "
        "frame, over their spread\"}, requested {'input_size': 16, 'resize': 'squash-bilinear', 'channel_order': "
        "'RGB', 'values': 'uint8 0-255', 'scaling': \"in the model: minus its training frames' mean frame, over "
        "their spread\"}")


def test_a_fingerprint_written_before_precision_existed_is_float32():
    old = json.loads(WRITTEN_RANDOM)
    del old["precision"]
    assert spec_from_json(old) == fingerprint("random", 0) and spec_from_json(old).precision == "fp32"


@pytest.mark.parametrize("change, reason", [
    (lambda fp: fp.pop("dim"), "encoder fingerprint lacks dim"),
    (lambda fp: fp.pop("weights_id") and fp.pop("layer"), "encoder fingerprint lacks layer, weights_id"),
    (lambda fp: fp.update(colour="red"),
     "encoder fingerprint has fields this version does not know: colour (written by a newer captioner?)"),
    (lambda fp: fp.update(dim="4096"), "encoder fingerprint: dim '4096' is not a whole number"),
    (lambda fp: fp.update(dim=True), "encoder fingerprint: dim True is not a whole number"),
    (lambda fp: fp.update(preprocessing=[224]), "preprocessing is list, not an object"),
    (lambda fp: fp["preprocessing"].pop("input_size"), "preprocessing lacks input_size"),
    (lambda fp: fp["preprocessing"].update(mean=3), "preprocessing: 'int' object is not iterable"),
])
def test_a_broken_fingerprint_is_refused_saying_what_is_wrong(change, reason):
    fp = json.loads(WRITTEN_RANDOM)
    change(fp)
    with pytest.raises(SpecError) as error:
        spec_from_json(fp)
    assert str(error.value) == reason
    with pytest.raises(SpecError, match="^encoder fingerprint is str, not an object$"):
        spec_from_json("VGG16")


def test_a_cache_with_a_broken_fingerprint_is_refused_naming_its_file(tmp_path):
    d = tmp_path / "c"
    FeatureCache.open(str(d), fingerprint("random"), writable=True).close()
    meta = json.loads((d / "cache.json").read_text())
    del meta["fingerprint"]["weights"]
    (d / "cache.json").write_text(json.dumps(meta))
    with pytest.raises(CacheError) as error:
        FeatureCache.open(str(d))
    assert str(error.value) == f"{d / 'cache.json'}: encoder fingerprint lacks weights"


def test_a_cache_records_the_spec_it_was_opened_with_as_written(tmp_path):
    d = tmp_path / "c"
    FeatureCache.open(str(d), fingerprint("random-tiny", 5), writable=True).close()
    written = json.loads((d / "cache.json").read_text())["fingerprint"]
    assert written == fingerprint("random-tiny", 5).to_json()
    with FeatureCache.open(str(d)) as cache:
        assert isinstance(cache.fingerprint, EncoderSpec) and cache.fingerprint == fingerprint("random-tiny", 5)
