"""Importing Keras without TensorFlow's C++ start-up chatter on stderr.

TensorFlow (2.21) prints absl/oneDNN/CUDA lines from C++ whatever TF_CPP_MIN_LOG_LEVEL says. We silence
file descriptor 2 only while importing and initialising devices, and replay what was printed if that fails.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading

# One import at a time: `caption` builds the encoder in a thread while the main thread imports Keras, and a
# second thread must neither see a half-imported module nor swap file descriptor 2 under the first.
_IMPORTING = threading.Lock()


def import_keras():
    """Return the `keras` module, imported quietly once."""
    with _IMPORTING:
        if "keras" in sys.modules:
            return sys.modules["keras"]
        return _import_quietly()


def _import_quietly():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # 3: also the runtime oneDNN notes printed as errors
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras

            if keras.config.backend() == "tensorflow":
                import tensorflow as tf

                tf.config.list_physical_devices()  # device probing logs the CUDA lines now, not later
                tf.get_logger().setLevel("ERROR")  # e.g. retracing notes when several searches are compiled
        except ModuleNotFoundError as exc:
            os.dup2(saved, 2)
            if exc.name not in ("keras", "tensorflow", "jax", "jaxlib", "torch"):
                raise
            from captioner.base.errors import UsageError

            raise UsageError(f"this needs Keras and its backend ({exc.name} is not installed): pip install "
                             "'captioner[keras]'; a model from `captioner export` (.onnx, .tflite) runs without "
                             "them") from None
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return keras
