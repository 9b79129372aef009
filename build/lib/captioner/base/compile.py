"""The only backend-specific code in the package: compiling a pure function, and adopting device arrays.

TensorFlow: tf.function with XLA; JAX: jax.jit; torch (or anything else): run eagerly.
"""

from __future__ import annotations

import numpy as np

from captioner.base.backend import import_keras


def compile_function(fn, jit: bool = True):
    backend = import_keras().config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=jit, reduce_retracing=True)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


def on_gpu() -> bool:
    """Whether the active backend computes on a GPU."""
    backend = import_keras().config.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def from_dlpack(array):
    """A backend tensor viewing `array` (anything with __dlpack__, e.g. a decoded image on the GPU): no copy."""
    backend = import_keras().config.backend()
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.from_dlpack(array)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    if backend == "torch":
        import torch

        return torch.from_dlpack(array)
    return import_keras().ops.convert_to_tensor(np.asarray(array))
