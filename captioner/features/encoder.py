"""The frozen VGG16 image encoder, cut at fc2 (4,096-d), and the pixel recipe that belongs to it."""

from __future__ import annotations

import os

import numpy as np

from captioner.base.errors import UsageError
from captioner.base.hashing import file_sha256
from captioner.features import vgg16
from captioner.features.encoder_spec import EncoderSpec, InputRecipe

LAYER = "fc2"
DIM = 4096  # VGG16's fc2; `random-tiny` gives 64
# What keras.applications.vgg16.preprocess_input does ("caffe" mode), written down so it can be recorded.
PREPROCESSING = {
    "input_size": 224,
    "resize": "squash-bilinear",
    "channel_order": "BGR",
    "mean": [103.939, 116.779, 123.68],
    "scale": 1.0,
}
# keras.applications verifies the download against this hash; we record it as the weights' identity.
IMAGENET_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
IMAGENET_HASH = "64373286793e3c8b2b4e3219cbf3544b"
IMAGENET_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" + IMAGENET_FILE
RANDOM_INIT = "he-uniform-numpy-v1"
# --weights for seeded random encoders -> (the fingerprint's architecture, the layers' widths). `random-tiny`
# is VGG16 at 1/16 of the width: the pipeline end to end in seconds, for tests and for trying a set-up.
RANDOM = {"random": ("VGG16", vgg16.VGG16), "random-tiny": ("VGG16-tiny", vgg16.TINY)}
# --precision -> the Keras dtype policy of the VGG16 layers. Mixed policies keep float32 weights and compute in
# 16 bits (tensor cores on a GPU); the preprocessing and the returned features stay float32.
PRECISIONS = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


def preprocess(batch: np.ndarray) -> np.ndarray:
    """(N, 224, 224, 3) uint8 RGB -> float32 BGR minus the ImageNet mean (numpy; the encoder does this in-graph)."""
    x = batch[..., ::-1].astype(np.float32)
    x -= np.asarray(PREPROCESSING["mean"], dtype=np.float32)
    return x


def _preprocess_layer(keras):
    """The same recipe as `preprocess`, inside the model: uint8 goes to the device, 4x less to copy."""

    class CaffePreprocess(keras.layers.Layer):
        def call(self, x):
            x = keras.ops.flip(keras.ops.cast(x, "float32"), axis=-1)  # RGB -> BGR
            return x - keras.ops.convert_to_tensor(np.asarray(PREPROCESSING["mean"], dtype=np.float32))

    return CaffePreprocess(name="caffe_preprocess")


def fingerprint(weights: str = "imagenet", seed: int = 0, precision: str = "fp32") -> EncoderSpec:
    """What produced a feature vector; caches and model bundles store it and refuse a different one."""
    if precision not in PRECISIONS:
        raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if weights == "imagenet":
        source, ident = "imagenet", f"{IMAGENET_FILE} md5:{IMAGENET_HASH}"
    elif weights in RANDOM:
        source, ident = "random", f"seed={seed} {RANDOM_INIT}"
    else:
        if not os.path.isfile(weights):
            raise UsageError(f"{weights}: no such weights file (use --weights imagenet, random, random-tiny, or a "
                             "local .h5 file)")
        source, ident = "file", f"sha256:{file_sha256(weights)}"
    recipe = InputRecipe(PREPROCESSING["input_size"], PREPROCESSING["resize"], PREPROCESSING["channel_order"],
                         tuple(PREPROCESSING["mean"]), PREPROCESSING["scale"])
    return EncoderSpec(RANDOM[weights][0] if weights in RANDOM else "VGG16", LAYER, widths_of(weights).fc, source,
                       ident, recipe, precision)


def widths_of(weights: str) -> vgg16.Widths:
    return RANDOM[weights][1] if weights in RANDOM else vgg16.VGG16


def weights_option(spec: EncoderSpec) -> str | None:
    """The --weights value that rebuilds the encoder of `spec` (None for a local file: only the user knows it)."""
    if spec.is_random:
        return next((name for name, (arch, _) in RANDOM.items() if arch == spec.architecture), None)
    return "imagenet" if spec.weights == "imagenet" else None


class Encoder:
    """VGG16 up to fc2, frozen. `encode` takes uint8 RGB batches from `captioner.inputs.images`."""

    def __init__(self, weights: str = "imagenet", seed: int = 0, precision: str = "fp32"):
        self.fingerprint = fingerprint(weights, seed, precision)
        # The arrays first: numpy and h5py only, so a caller's thread can do this while Keras is imported.
        self.model = _build(weight_arrays(weights, seed), precision, widths_of(weights))
        self.model.trainable = False

    @property
    def input_size(self) -> int:
        return PREPROCESSING["input_size"]

    def encode(self, batch: np.ndarray) -> np.ndarray:
        """(N, 224, 224, 3) uint8 RGB -> (N, dim) float32 (dim 4096; 64 for `random-tiny`). A device tensor (GPU
        decoding) stays where it is."""
        if isinstance(batch, (np.ndarray, list)):
            batch = np.asarray(batch, dtype=np.uint8)
        rows = int(batch.shape[0])
        features = self.model.predict_on_batch(padded_batch(batch, rows))
        return np.asarray(features, dtype=np.float32)[:rows]


def padded_batch(batch, rows: int):
    """`batch` with zero images up to the next power of two rows: JAX (and XLA) compile once per batch shape, so
    callers with varying batch sizes (the Python API, a folder's last batch) meet a few shapes, not one per size.
    At most 2x the rows; full batches of 2^k (the commands' default 32) are untouched."""
    target = 1 << max(0, rows - 1).bit_length()
    if target == rows:
        return batch
    if isinstance(batch, np.ndarray):
        return np.concatenate([batch, np.zeros((target - rows,) + batch.shape[1:], batch.dtype)])
    from captioner.base.backend import import_keras

    ops = import_keras().ops  # a device tensor (GPU decoding) is padded where it is
    return ops.pad(batch, [[0, target - rows]] + [[0, 0]] * (len(batch.shape) - 1))


def weight_arrays(weights: str, seed: int) -> list[np.ndarray]:
    """VGG16's weights up to fc2 as arrays, in `vgg16.shapes()` order."""
    if weights in RANDOM:
        return _random_weights(vgg16.shapes(widths_of(weights)), seed)
    path = _imagenet_file() if weights == "imagenet" else weights
    try:
        arrays = vgg16.read_weights_file(path)
    except (OSError, KeyError, ValueError) as exc:
        raise UsageError(f"{weights}: not a VGG16 weights file ({str(exc).splitlines()[0][:200]})") from None
    return arrays if arrays is not None else _arrays_read_by_keras(path)


def _arrays_read_by_keras(path: str) -> list[np.ndarray]:
    """A weights file in a layout our reader does not know: keras.applications' model reads it for us."""
    from captioner.base.backend import import_keras

    full = import_keras().applications.VGG16(weights=None, include_top=True)
    try:
        full.load_weights(path)
    except Exception as exc:
        raise UsageError(f"{path}: not a VGG16 weights file ({str(exc).splitlines()[0][:200]})") from None
    return [w for name in vgg16.layer_names() for w in full.get_layer(name).get_weights()]


def _imagenet_file() -> str:
    """The ImageNet weights keras.applications uses, downloaded once into ~/.keras/models and checked by hash."""
    from captioner.base.backend import import_keras

    try:
        return import_keras().utils.get_file(IMAGENET_FILE, IMAGENET_URL, cache_subdir="models",
                                             file_hash=IMAGENET_HASH)
    except Exception as exc:  # offline, proxy, disk: the user needs the alternatives, not a traceback
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(
            f"cannot get the ImageNet VGG16 weights ({reason[:200]}); offline, use --weights FILE with a local "
            f"copy of {IMAGENET_FILE}, or --weights random for a test run") from None


def _build(arrays: list[np.ndarray], precision: str = "fp32", widths: vgg16.Widths = vgg16.VGG16):
    from captioner.base.backend import import_keras

    keras = import_keras()
    features = vgg16.build(keras, arrays, None if precision == "fp32" else PRECISIONS[precision], widths)
    if tuple(features.output.shape[1:]) != (widths.fc,):  # fc2, never the 1,000-way softmax
        raise AssertionError(f"encoder output {features.output.shape}, expected (None, {widths.fc})")
    pixels = keras.Input((224, 224, 3), dtype="uint8", name="pixels")
    return keras.Model(pixels, features(_preprocess_layer(keras)(pixels)), name="vgg16_fc2_encoder")


def _random_weights(shapes: list[tuple[int, ...]], seed: int) -> list[np.ndarray]:
    """He-uniform kernels and zero biases from numpy: identical under every Keras backend and version."""
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        if len(shape) == 1:
            out.append(np.zeros(shape, np.float32))
            continue
        limit = np.sqrt(6.0 / int(np.prod(shape[:-1])))
        kernel = rng.random(shape, dtype=np.float32)
        kernel *= 2 * limit
        kernel -= limit
        out.append(kernel)
    return out
