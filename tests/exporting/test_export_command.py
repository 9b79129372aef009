"""`captioner export`'s refusals, each one line before anything is traced, and what it writes."""

import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.backend_independent  # tracing is TensorFlow's whatever the backend; JAX is refused


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("note: encoder uses RANDOM")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("args, reason", [
    (["--format", "onnx", "--out", "model.tflite"], "--format onnx writes a .onnx file; name it so"),
    (["--format", "litert", "--out", "model.onnx"], "--format litert writes a .tflite file; name it so"),
    (["--format", "saved_model", "--out", "model", "--precision", "float16"],
     "--precision float16 is for onnx and litert"),
    (["--format", "onnx", "--out", "model.onnx", "--search", "beam", "--beam-size", "1"],
     "a beam search needs 2 or more; --search greedy is beam 1"),
    (["--format", "onnx", "--out", "no/such/folder/model.onnx"], "does not exist"),
])
def test_impossible_requests_are_refused_in_one_line(args, reason, trained, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("export", "--model", trained / "model", *args)
    assert code == 2 and out == "" and reason in one_error_line(err)
    assert not [p for p in tmp_path.iterdir()]  # nothing written


def test_a_frame_cnn_model_and_a_folder_that_is_no_bundle_are_refused(trained, tmp_path, run_cli):
    clip = tmp_path / "clip-model"
    shutil.copytree(trained / "model", clip)
    config = json.loads((clip / "config.json").read_text())
    config["decoder"].update(frames=8, frame_encoder="cnn", feature_dim=64 * 64 * 3)
    (clip / "config.json").write_text(json.dumps(config))
    code, _, err = run_cli("export", "--model", clip, "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert code == 2 and "its own frame CNN (--frame-encoder cnn)" in one_error_line(err)
    code, _, err = run_cli("export", "--model", tmp_path, "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert code == 2 and "not a model bundle" in one_error_line(err)


@pytest.mark.slow  # a process importing JAX
def test_under_jax_the_export_says_to_use_tensorflow(trained, tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-m", "captioner", "export", "--model", str(trained / "model"), "--format",
                           "onnx", "--out", str(tmp_path / "m.onnx")], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "run it with KERAS_BACKEND=tensorflow (not jax)" in one_error_line(done.stderr)


def test_the_written_files_are_readable_as_the_umask_allows_and_name_what_they_hold(trained, tmp_path, run_cli):
    old = os.umask(0o027)
    try:
        code, out, err = run_cli("export", "--model", trained / "model", "--format", "litert", "--out",
                                 tmp_path / "m.tflite", "--search", "greedy")
    finally:
        os.umask(old)
    assert code == 0, err
    assert out.startswith(f"{tmp_path / 'm.tflite'}: images -> captions, greedy search inside, float32, ")
    for name in ("m.tflite", "m.tflite.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640
    record = json.loads((tmp_path / "m.tflite.json").read_text())
    assert record["input"] == {"name": "pixels", "dtype": "uint8", "colour": "RGB", "size": 224,
                               "resize": "squash-bilinear"}
    assert record["encoder"]["weights"] == "random" and len(record["model_sha256"]) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite", "m.tflite.json"]  # no temporary left
