"""Compile a pure function for the active Keras backend. The only backend-specific code in the package.

TensorFlow: tf.function with XLA; JAX: jax.jit; torch (or anything else): run eagerly.
"""

from __future__ import annotations

from captioner.backend import import_keras


def compile_function(fn, jit: bool = True):
    backend = import_keras().config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=jit, reduce_retracing=True)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn
