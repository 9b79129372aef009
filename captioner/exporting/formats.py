"""Writing the frozen function in each format, with its `ExportInfo`, atomically (a reader sees no half file).

    onnx         one .onnx file; the record in its metadata (key `captioner`). tf2onnx converts the graph,
                 the search loop becoming an ONNX Loop.
    litert       a .tflite file and `FILE.tflite.json` beside it (the record with the file's sha256).
    saved_model  a SavedModel folder, its record in `captioner.json`; loads with `tf.saved_model.load` alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

import numpy as np

from captioner.base.atomic import atomic_path, current_umask, write_json
from captioner.base.errors import UsageError
from captioner.base.hashing import file_sha256
from captioner.runtime.export_info import METADATA_KEY, SAVED_MODEL_FILE, SIDECAR_SUFFIX, ExportInfo

log = logging.getLogger(__name__)

FORMATS = {"onnx": ".onnx", "litert": ".tflite", "saved_model": ""}
ONNX_OPSET = 17


def check_out_path(fmt: str, out: str) -> None:
    """Refuse an output path the format cannot be written to, before anything is built."""
    suffix = FORMATS[fmt]
    if suffix and not out.lower().endswith(suffix):
        raise UsageError(f"{out}: --format {fmt} writes a {suffix} file; name it so")
    if not suffix and os.path.isfile(out):
        raise UsageError(f"{out}: a SavedModel is a folder, and this is a file")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise UsageError(f"{out}: the folder {parent} does not exist")


def write_onnx(function, weights: dict, info: ExportInfo, out: str, float16: bool = False) -> None:
    """`function` takes the pixels and then `weights` (name -> array) as inputs; in the file the weights are
    initializers, so the graph's one input is the pixels. `float16`: those weights are stored as float16, each
    cast back to float32 as the graph starts (half the file; the arithmetic stays float32, as LiteRT's float16)."""
    try:
        import tf2onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise UsageError("exporting to ONNX needs tf2onnx: pip install 'captioner[export]'") from None

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)  # per-node shape notes, not the user's concern
    proto, _ = tf2onnx.convert.from_function(function, input_signature=function.input_signature, opset=ONNX_OPSET)
    inputs = list(proto.graph.input)
    del proto.graph.input[:]
    casts = []
    for graph_input in inputs:
        name = graph_input.name
        if name not in weights:
            proto.graph.input.append(graph_input)
        elif float16 and weights[name].dtype == np.float32:
            proto.graph.initializer.append(numpy_helper.from_array(weights[name].astype(np.float16), name + "_float16"))
            casts.append(helper.make_node("Cast", [name + "_float16"], [name], to=TensorProto.FLOAT))
        else:
            proto.graph.initializer.append(numpy_helper.from_array(weights[name], name))
    for position, cast in enumerate(casts):  # first: every node that reads a weight comes after its cast
        proto.graph.node.insert(position, cast)
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, info.dumps()
    proto.producer_name = "captioner"
    with atomic_path(out, suffix=".onnx") as tmp:
        with open(tmp, "wb") as f:
            f.write(proto.SerializeToString())


def write_saved_model(function, info: ExportInfo, out: str) -> None:
    """The folder is written beside `out` and renamed over it (an earlier export there is replaced whole)."""
    staging = _saved_model(function, os.path.dirname(os.path.abspath(out)))
    try:
        write_json(os.path.join(staging, SAVED_MODEL_FILE), info.to_json())
        if os.path.isdir(out):
            old = tempfile.mkdtemp(prefix=".old-", dir=os.path.dirname(os.path.abspath(out)))
            os.rename(out, os.path.join(old, "model"))
            os.rename(staging, out)
            shutil.rmtree(old)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_litert(function, info: ExportInfo, out: str, float16: bool) -> None:
    import tensorflow as tf

    staging = _saved_model(function, tempfile.gettempdir())
    try:
        converter = tf.lite.TFLiteConverter.from_saved_model(staging, signature_keys=["serving_default"])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if float16:  # weights stored as float16, computed in float32
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        blob = converter.convert()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with atomic_path(out, suffix=".tflite") as tmp:
        with open(tmp, "wb") as f:
            f.write(blob)
    record = {**info.to_json(), "model_sha256": file_sha256(out)}
    write_json(out + SIDECAR_SUFFIX, record)


def _saved_model(function, parent: str) -> str:
    """A SavedModel of `function` (its `serving_default` signature) in a new folder under `parent`."""
    import tensorflow as tf

    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    module = tf.Module()
    module.caption = function
    try:
        tf.saved_model.save(module, staging, signatures={"serving_default": function})
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    os.chmod(staging, 0o777 & ~current_umask())
    return staging


def describe(out: str) -> str:
    """The size of what was written, for the command's summary."""
    if os.path.isdir(out):
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(out) for f in files)
    else:
        size = os.path.getsize(out)
    return f"{size / 1e6:.1f} MB"

