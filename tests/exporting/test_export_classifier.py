"""An activity classifier exported: clips give the bundle's classes and probabilities under ONNX Runtime and
LiteRT, through `captioner.load`, `classify` and `classify --out`."""

import json

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.backend_independent]  # a classifier trained and exported: TensorFlow

FRAMES = 4


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    from captioner.cli import main
    from captioner.drawn.activities import write_activity_set

    work = tmp_path_factory.mktemp("classifier-export")
    root = write_activity_set(str(work / "clips"), num_clips=24, seed=1)
    # float32 features, as in the caption parity tests: a float16 cache's rounding steps would blur the comparison
    assert main(["extract", root, "--cache", str(work / "cache"), "--frames", str(FRAMES), "--dtype", "float32",
                 "--weights", "random-tiny", "--quiet"]) == 0
    assert main(["train", "--labels", root, "--cache", str(work / "cache"), "--out", str(work / "model"),
                 "--weights", "random-tiny", "--frames", str(FRAMES), "--epochs", "4", "--units", "16",
                 "--quiet"]) == 0
    clips = sorted(p for p in (work / "clips").rglob("*") if p.suffix in (".mp4", ".avi", ".gif"))
    return work, clips


@pytest.mark.parametrize("fmt, suffix", [("onnx", ".onnx"), ("litert", ".tflite")])
def test_an_exported_classifier_gives_the_bundles_classes(fmt, suffix, classifier, tmp_path, run_cli):
    import captioner

    work, clips = classifier
    path = tmp_path / f"classifier{suffix}"
    report = captioner.export(str(work / "model"), fmt, str(path))
    assert report.info.kind == "classifier" and "-> classes (4)" in report.summary()
    bundle = captioner.load(str(work / "model"), announce=False)
    exported = captioner.load(str(path), announce=False)
    assert exported.classes == bundle.classes and exported.runtime == ("onnx" if fmt == "onnx" else "litert")
    inputs = [str(c) for c in clips] + [str(tmp_path / "absent.mp4")]
    want, got = bundle.classify(inputs, top_k=3), exported.classify(inputs, top_k=3)
    assert [r.label for r in got] == [r.label for r in want] and got[-1].error == "file not found"
    assert np.allclose([p for r in got[:-1] for _, p in r.top], [p for r in want[:-1] for _, p in r.top], atol=1e-4)
    out = tmp_path / "labels.jsonl"
    code, _, err = run_cli("classify", "--model", path, *clips[:5], "--out", out, "--top-k", "2")
    assert code == 0, err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["label"] for r in records] == [r.label for r in want[:5]]
    code, _, err = run_cli("caption", "--model", path, clips[0])
    assert code == 2 and "not a caption model; use `classify`" in err
