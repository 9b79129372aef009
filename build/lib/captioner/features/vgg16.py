"""VGG16 up to fc2, built straight from its weight arrays.

keras.applications.VGG16 first fills its 134M weights with Glorot-random values, which the ImageNet file (or
our seeded weights) then overwrite: two extra passes over 0.5 GB, 2-3 s of a cold start on a 2-core CPU.
Here the same layers, named as keras.applications names them (so its weights file loads by name), are created
with the arrays as their initial values. `encoder.py` falls back to keras.applications for a weights file in
another layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FC = ("fc1", "fc2")


@dataclass(frozen=True)
class Widths:
    """How wide each layer is; the layers themselves (13 convolutions in 5 blocks, 2 dense) are VGG16's."""

    blocks: tuple[tuple[int, int], ...]  # (filters, convolutions) per block
    fc: int  # units of fc1 and fc2: the feature vector's size


VGG16 = Widths(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 4096)
# The same network at 1/16 of the width with 64-d features: ~240x less arithmetic, no weights file exists for
# it. It runs the whole pipeline in seconds (tests, trying a set-up); its features mean nothing.
TINY = Widths(((4, 2), (8, 2), (16, 3), (32, 3), (32, 3)), 64)


def layer_names() -> list[str]:
    """The layers with weights, up to fc2, in keras.applications' order."""
    convs = [f"block{b}_conv{c}" for b, (_, n) in enumerate(VGG16.blocks, 1) for c in range(1, n + 1)]
    return convs + list(FC)


def shapes(widths: Widths = VGG16) -> list[tuple[int, ...]]:
    """(kernel, bias) shapes of `layer_names()`, flattened in that order: the order of `model.weights`."""
    out, channels = [], 3
    for filters, n in widths.blocks:
        for _ in range(n):
            out += [(3, 3, channels, filters), (filters,)]
            channels = filters
    return out + [(7 * 7 * channels, widths.fc), (widths.fc,), (widths.fc, widths.fc), (widths.fc,)]


def build(keras, arrays: list[np.ndarray], policy=None, widths: Widths = VGG16):
    """The fc2 feature model: (224, 224, 3) preprocessed float input -> (fc,), weights from `arrays`."""
    if [tuple(a.shape) for a in arrays] != shapes(widths):
        raise ValueError("weight arrays do not have VGG16's shapes up to fc2")
    given = iter(arrays)

    def init():
        array = next(given)
        return lambda shape, dtype=None: array  # noqa: E731 - the variable starts as this array, no copy first

    layers = keras.layers
    inputs = keras.Input((224, 224, 3), name="input_layer")
    x = inputs
    for b, (filters, n) in enumerate(widths.blocks, 1):
        for c in range(1, n + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{b}_conv{c}",
                              kernel_initializer=init(), bias_initializer=init(), dtype=policy)(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{b}_pool", dtype=policy)(x)
    x = layers.Flatten(name="flatten", dtype=policy)(x)
    for name in FC:
        x = layers.Dense(widths.fc, activation="relu", name=name, kernel_initializer=init(), bias_initializer=init(),
                         dtype=policy)(x)
    return keras.Model(inputs, x, name="vgg16_fc2")


def read_weights_file(path: str) -> list[np.ndarray] | None:
    """Arrays up to fc2 from a Keras weights file in the layout keras.applications ships (HDF5, one group per
    layer, its `weight_names` in order); None when the file has another layout."""
    import h5py

    with h5py.File(path, "r") as f:
        if "layer_names" not in f.attrs:
            return None
        names = {n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]}
        if not set(layer_names()) <= names:
            return None
        out = []
        for name in layer_names():
            group = f[name]
            weight_names = [w.decode() if isinstance(w, bytes) else w for w in group.attrs["weight_names"]]
            out += [np.asarray(group[w], dtype=np.float32) for w in weight_names]
    return out if [tuple(a.shape) for a in out] == shapes() else None
