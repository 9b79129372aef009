"""Bundles of clip models with their own CNN: they carry their CNN and its input recipe and are used by every
command, the API and the server without building VGG16; the demo with a CNN."""

import json

import pytest

from tests.support.frame_cnn_flags import CNN_FLAGS, FRAMES, SIZE


@pytest.fixture(scope="module")
def cnn_classifier(tmp_path_factory):
    """A CNN activity classifier on 16 drawn clips, trained by the command (2 epochs), with a broken clip beside."""
    from captioner.cli import main
    from captioner.drawn.activities import write_activity_set

    work = tmp_path_factory.mktemp("cnn")
    root = write_activity_set(str(work / "clips"), num_clips=16, seed=0)
    code = main(["train", "--labels", root, "--cache", str(work / "cache"), "--out", str(work / "model"), *CNN_FLAGS,
                 "--epochs", "2", "--quiet", "--summary"])
    assert code == 0
    return work


def forbid_vgg16(monkeypatch):
    from captioner.features import encoder, vgg16

    def built(*args, **kwargs):
        raise AssertionError("VGG16 was built")

    monkeypatch.setattr(vgg16, "build", built)
    monkeypatch.setattr(encoder.Encoder, "__init__", built)


@pytest.mark.slow  # trains the classifier
def test_a_cnn_bundle_carries_its_cnn_and_classifies_everywhere_without_vgg16(cnn_classifier, run_cli, monkeypatch,
                                                                              tmp_path, capsys):
    import captioner

    model, root, cache = cnn_classifier / "model", cnn_classifier / "clips", cnn_classifier / "cache"
    config = json.loads((model / "config.json").read_text())
    assert config["version"] == 3 and config["classifier"]["frame_encoder"] == "cnn"
    assert config["classifier"]["cnn"] == {"frame_size": SIZE, "filters": 4, "blocks": 2, "dense": 8}
    recipe = config["encoder"]
    assert recipe["architecture"] == "frames-as-pixels" and recipe["preprocessing"]["input_size"] == SIZE
    assert recipe["preprocessing"]["channel_order"] == "RGB" and "VGG16" not in json.dumps(recipe)
    assert config["training"]["feature_dtype"] == "uint8"

    forbid_vgg16(monkeypatch)
    clips = sorted(str(p) for p in root.glob("*/*.*"))[:3]
    code, out, err = run_cli("classify", "--model", model, *clips, "--json")
    assert code == 0, err
    cli = [json.loads(line) for line in out.splitlines()]
    assert "RANDOM" not in err
    api = captioner.load(str(model)).classify(clips, top_k=4)
    assert [r.label for r in api] == [c["label"] for c in cli]
    code, out, err = run_cli("evaluate", "--model", model, "--labels", root, "--cache", cache, "--quiet")
    assert code == 0 and "| top-1 accuracy |" in out, err

    from captioner.inputs.frames import load_clip
    from captioner.inputs.images import ImageError

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    with pytest.raises(ImageError) as reason:  # what the VGG16 path says of it
        load_clip(str(broken), FRAMES)
    code, out, err = run_cli("classify", "--model", model, broken)
    assert code == 1 and str(broken) in err and str(reason.value) in err


@pytest.mark.slow  # trains the classifier
@pytest.mark.backend_independent  # the training command's printing
def test_train_summary_lists_the_layers_and_vgg16_options_are_refused(cnn_classifier, run_cli, tmp_path):
    root = cnn_classifier / "clips"
    code, out, err = run_cli("train", "--labels", root, "--cache", tmp_path / "c", "--out", tmp_path / "m",
                             *CNN_FLAGS, "--weights", "random")
    assert code == 2 and "--weights, --encoder-seed and --precision (VGG16's) do not apply" in err
    code, out, err = run_cli("train", "--labels", root, "--cache", cnn_classifier / "cache", "--out",
                             tmp_path / "m2", *CNN_FLAGS, "--epochs", "1", "--quiet", "--summary")
    assert code == 0, err
    assert "frame_conv2" in out and "frame_flatten" in out and "frames as 16x16 RGB pixels" in out


@pytest.fixture(scope="module")
def cnn_captioner(tmp_path_factory):
    """A clip caption model with its own CNN on 20 drawn clips (2 epochs)."""
    from captioner.cli import main
    from captioner.drawn.shape_clips import write_synthetic_clips

    work = tmp_path_factory.mktemp("cnn-captions")
    write_synthetic_clips(str(work / "clips"), num_clips=20, seed=0)
    code = main(["train", "--captions", str(work / "clips" / "captions.csv"), "--images", str(work / "clips" / "Clips"),
                 "--cache", str(work / "cache"), "--out", str(work / "model"), *CNN_FLAGS, "--epochs", "2", "--quiet"])
    assert code == 0
    return work


@pytest.mark.slow  # trains the clip caption model
def test_a_cnn_clip_captioner_captions_and_evaluates_without_vgg16(cnn_captioner, run_cli, monkeypatch, tmp_path):
    import captioner

    forbid_vgg16(monkeypatch)
    model, clips = cnn_captioner / "model", cnn_captioner / "clips"
    code, out, err = run_cli("evaluate", "--model", model, "--captions", clips / "captions.csv", "--images",
                             clips / "Clips", "--cache", cnn_captioner / "cache", "--split", "test", "--json",
                             tmp_path / "e.json", "--quiet", "--no-meteor")
    assert code == 0, err
    truth = json.loads((clips / "truth.json").read_text())
    from_eval = {truth[c["input"]]["file"]: c["caption"] for c in json.loads((tmp_path / "e.json").read_text())["captions"]}
    names = sorted(from_eval)
    paths = [str(clips / "Clips" / name) for name in names]
    code, out, err = run_cli("caption", "--model", model, *paths)
    assert code == 0, err
    assert [line.split("\t")[1] for line in out.splitlines()] == [from_eval[n] for n in names]
    code, _, err = run_cli("caption-folder", "--model", model, clips / "Clips", "--out", tmp_path / "all.jsonl",
                           "--quiet")
    assert code == 0, err
    records = {r["input"]: r["caption"] for r in map(json.loads, (tmp_path / "all.jsonl").read_text().splitlines())}
    assert {n: records[n] for n in names} == from_eval
    assert [r.text for r in captioner.load(str(model)).caption(paths)] == [from_eval[n] for n in names]


@pytest.mark.slow  # trains the classifier
def test_the_server_labels_clips_with_a_cnn_bundle_without_vgg16(cnn_classifier, monkeypatch):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    import captioner
    from captioner.serving.app import create_app
    from captioner.serving.settings import ServeSettings
    from tests.support.live_server import upload

    forbid_vgg16(monkeypatch)
    model = captioner.load(str(cnn_classifier / "model"), announce=False)
    clips = sorted((cnn_classifier / "clips").glob("*/*.mp4"))[:2] + sorted((cnn_classifier / "clips").glob("*/*.gif"))[:1]
    expected = model.classify([str(c) for c in clips], top_k=2)
    import time

    # The first request waits for the warm-up (every batch shape compiled): on a loaded 2-core machine under JAX
    # that once took longer than the default 60 s per request (a 504), so this test allows 5 minutes.
    with TestClient(create_app(model, ServeSettings(timeout_s=300.0))) as client:
        response = client.post("/v1/labels?top_k=2", files=upload(*clips))
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        info = client.get("/v1/model").json()
        deadline = time.monotonic() + 60
        while (ready := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready.status_code == 200, ready.text  # warmed up through the pixel recipe, every batch shape
    assert [r["label"] for r in results] == [e.label for e in expected]
    assert all(r["probability"] == pytest.approx(e.probability, abs=1e-5) for r, e in zip(results, expected))
    assert "VGG16" not in json.dumps(info)


@pytest.mark.slow  # the demo
@pytest.mark.backend_independent  # the demo's glue; the CNN classifier per backend above
def test_the_activity_demo_with_its_own_cnn(run_cli, tmp_path, monkeypatch):
    forbid_vgg16(monkeypatch)
    code, out, err = run_cli("demo", "--activity", "--frame-encoder", "cnn", "--workdir", tmp_path / "d", "--clips",
                             "16", "--frames", "2", "--epochs", "1", "--quiet")
    assert code == 0, err
    assert "frames as 64x64 RGB pixels, read by the model's own CNN" in out and "| top-1 accuracy |" in out
    assert "RANDOM" not in out + err and (tmp_path / "d" / "cache" / "pixels-64x64" / "cache.json").exists()
    code, _, err = run_cli("demo", "--video", "--frame-encoder", "cnn", "--workdir", tmp_path / "v")
    assert code == 2 and "--frame-encoder goes with --activity" in err
