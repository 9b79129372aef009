"""The clip models' own CNN (`--frame-encoder cnn`): TimeDistributed layers trained with the LSTM, frames cached
once as uint8 pixels (crash-safe, resumable), bundles that carry their CNN and need no VGG16 anywhere."""

import json
import sys

import numpy as np
import pytest

from killing import kill_after_shards

SIZE, FRAMES = 16, 4  # small frames and few of them: the tests train in seconds
CNN_FLAGS = ["--frame-encoder", "cnn", "--frame-size", str(SIZE), "--frames", str(FRAMES), "--cnn-filters", "4",
             "--cnn-blocks", "2", "--cnn-dense", "8", "--units", "16"]


def test_every_layer_is_its_own_time_distributed_and_learns_from_the_lstm():
    from captioner.base.backend import import_keras
    from captioner.models.classifier import ClassifierConfig, build_classifier
    from captioner.models.frame_cnn import FrameCnn

    keras = import_keras()
    cnn = FrameCnn(frame_size=SIZE, filters=4, blocks=2, dense=8)
    model = build_classifier(ClassifierConfig(classes=3, frames=FRAMES, feature_dim=cnn.input_dim, units=8,
                                              frame_encoder="cnn", cnn=cnn))
    lines = []
    model.summary(expand_nested=True, print_fn=lambda line, **_: lines.append(line))
    text = "\n".join(lines)
    for name in ("frame_conv1", "frame_pool1", "frame_conv2", "frame_pool2", "frame_flatten",
                 "frame_dense", "frame_lstm", "head"):
        assert name in text
    assert text.count("(TimeDistributed)") >= 7  # 6 in the CNN + the frame projection

    rng = np.random.default_rng(0)
    clips = rng.integers(1, 256, (6, FRAMES, cnn.input_dim)).astype("float32")
    short = clips.copy()
    short[:, -1] = 0  # a clip one frame short: its last frame is padding
    # the padding frame changes nothing: the same as the clip read without it
    assert np.allclose(np.asarray(model(short)), np.asarray(model(short[:, :-1])), atol=1e-5)
    conv = model.frame_cnn.get_layer("frame_conv1")
    before = np.array(conv.get_weights()[0])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.train_on_batch(clips, np.array([0, 1, 2, 0, 1, 2]))
    assert not np.allclose(before, conv.get_weights()[0])  # the error reaches the first convolution


def _frames_as_rows(path, frames=FRAMES):
    from captioner.inputs.frames import load_clip

    pixels = load_clip(path, frames, SIZE)
    return pixels.reshape(len(pixels), -1)


@pytest.mark.backend_independent  # the cache and decoding; no Keras
def test_pixel_cache_is_uint8_memory_mapped_beside_the_feature_cache_and_decoded_once(tmp_path, monkeypatch):
    from captioner.datasets.synthetic_activity import write_activity_set
    from captioner.features import extraction
    from captioner.features.clip_features import cached_rows
    from captioner.features.features_for import prepared_cache
    from captioner.features.pixels import pixel_fingerprint

    root = write_activity_set(str(tmp_path / "clips"), num_clips=8, seed=0)
    keys = sorted(str(p.relative_to(root)) for p in (tmp_path / "clips").glob("*/*.*"))
    fp = pixel_fingerprint(SIZE)
    cache, good, failed = prepared_cache(str(tmp_path / "cache"), fp, keys, root, show_progress=False, frames=FRAMES)
    with cache:
        assert cache.directory == str(tmp_path / "cache" / f"pixels-{SIZE}x{SIZE}") and not failed
        assert cache.dtype == np.uint8 and cache.dim == SIZE * SIZE * 3 and len(cache) == 8 * FRAMES
        memmap, rows = cached_rows(cache, good, FRAMES)
        assert isinstance(memmap, np.memmap) and rows.shape == (8, FRAMES)
        assert np.array_equal(memmap[rows[3]], _frames_as_rows(str(tmp_path / "clips" / good[3])))

    def no_decoding(*args, **kwargs):
        raise AssertionError("a clip decoded twice")

    monkeypatch.setattr(extraction, "load_item", no_decoding)
    cache, again, _ = prepared_cache(str(tmp_path / "cache"), fp, keys, root, show_progress=False, frames=FRAMES)
    cache.close()
    assert again == good
    assert not (tmp_path / "cache" / "cache.json").exists()  # --cache itself stays free for VGG16 features


KILLED_DECODE = """
import sys, time
from captioner.features import extraction
from captioner.features.cache import FeatureCache
from captioner.features.features_for import ensure_features
from captioner.features.pixels import pixel_fingerprint
real = extraction.load_item
def slow(*args):
    time.sleep(0.3)  # slow enough that the kill lands midway
    return real(*args)
extraction.load_item = slow
root, cache_dir, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
with FeatureCache.open(cache_dir, pixel_fingerprint(%d), writable=True) as cache:
    ensure_features(keys, root, cache, batch_size=%d, show_progress=False, frames=%d)
""" % (SIZE, FRAMES, FRAMES)


@pytest.mark.slow  # a process killed
@pytest.mark.backend_independent  # a kill and a resume of the cache; training per backend below
def test_pixel_cache_survives_a_kill_mid_decode_and_resumes_without_duplicates(tmp_path, monkeypatch, run_cli):
    from captioner.datasets.synthetic_activity import write_activity_set
    from captioner.datasets.ucf101 import load_labels
    from captioner.features import extraction
    from captioner.features.cache import FeatureCache
    from captioner.features.pixels import pixel_fingerprint

    root = write_activity_set(str(tmp_path / "clips"), num_clips=16, seed=0)
    keys = sorted(str(p.relative_to(root)) for p in (tmp_path / "clips").glob("*/*.*"))
    pixels = tmp_path / "cache" / f"pixels-{SIZE}x{SIZE}"
    kill_after_shards([sys.executable, "-c", KILLED_DECODE, root, str(tmp_path / "cache"), *keys], pixels, shards=3)
    partial = {k.split("@")[0] for k in FeatureCache.open(str(pixels)).keys()}
    assert 0 < len(partial) < 16, "the kill should land midway"

    decoded = []
    real = extraction.load_item
    monkeypatch.setattr(extraction, "load_item", lambda item, size: decoded.append(item.key) or real(item, size))
    code, out, err = run_cli("train", "--labels", root, "--cache", tmp_path / "cache", "--out", tmp_path / "m",
                             *CNN_FLAGS, "--epochs", "1", "--quiet")
    assert code == 0, err
    labels = load_labels(root)
    needed = set(labels.select("train")) | set(labels.select("val"))
    assert len(decoded) == len(set(decoded)) and not set(decoded) & partial  # what was missing, each once
    assert needed - partial <= set(decoded) <= set(keys) - partial
    cached = FeatureCache.open(str(tmp_path / "cache"), pixel_fingerprint(SIZE)).keys()
    assert len(cached) == len(set(cached)) == len(partial | set(decoded)) * FRAMES
    for key in keys[:3]:
        with FeatureCache.open(str(pixels)) as cache:
            rows = cache.get([f"{key}@{FRAMES}:{i}" for i in range(FRAMES)])
        assert np.array_equal(rows, _frames_as_rows(str(tmp_path / "clips" / key)))


@pytest.fixture(scope="module")
def cnn_classifier(tmp_path_factory):
    """A CNN activity classifier on 16 drawn clips, trained by the command (2 epochs), with a broken clip beside."""
    from captioner.cli import main
    from captioner.datasets.synthetic_activity import write_activity_set

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
    assert code == 2 and "--weights and --precision (VGG16's) do not apply" in err
    code, out, err = run_cli("train", "--labels", root, "--cache", cnn_classifier / "cache", "--out",
                             tmp_path / "m2", *CNN_FLAGS, "--epochs", "1", "--quiet", "--summary")
    assert code == 0, err
    assert "frame_conv2" in out and "frame_flatten" in out and "frames as 16x16 RGB pixels" in out


@pytest.fixture(scope="module")
def cnn_captioner(tmp_path_factory):
    """A clip caption model with its own CNN on 20 drawn clips (2 epochs)."""
    from captioner.cli import main
    from captioner.datasets.synthetic_clips import write_synthetic_clips

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
    from_eval = {truth[c["image"]]["file"]: c["caption"] for c in json.loads((tmp_path / "e.json").read_text())["captions"]}
    names = sorted(from_eval)
    paths = [str(clips / "Clips" / name) for name in names]
    code, out, err = run_cli("caption", "--model", model, *paths)
    assert code == 0, err
    assert [line.split("\t")[1] for line in out.splitlines()] == [from_eval[n] for n in names]
    code, _, err = run_cli("caption-folder", "--model", model, clips / "Clips", "--out", tmp_path / "all.jsonl",
                           "--quiet")
    assert code == 0, err
    records = {r["image"]: r["caption"] for r in map(json.loads, (tmp_path / "all.jsonl").read_text().splitlines())}
    assert {n: records[n] for n in names} == from_eval
    assert [r.text for r in captioner.load(str(model)).caption(paths)] == [from_eval[n] for n in names]


def test_the_readme_keras_example_is_the_cnn_the_models_build(capsys):
    import pathlib
    import re

    from captioner.models.frame_cnn import FrameCnn, frame_cnn

    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Clips with a CNN of their own"):]
    block = re.findall(r"```python\n(.*?)```", section[:section.index("\n## ", 1)], flags=re.S)[0]
    scope: dict = {}
    exec(compile(block, "README.md (the frame CNN)", "exec"), scope)
    readme = scope["frame_cnn"]
    ours = frame_cnn(FrameCnn())
    ours.build((None, scope["frames"], 64, 64, 3))
    assert "Total params" in capsys.readouterr().out  # the block prints its summary
    assert [type(layer.layer).__name__ for layer in readme.layers] == [type(layer.layer).__name__ for layer in ours.layers]
    assert [w.shape for w in readme.weights] == [w.shape for w in ours.weights]
    assert readme.count_params() == ours.count_params()


@pytest.mark.slow  # trains the classifier
def test_the_server_labels_clips_with_a_cnn_bundle_without_vgg16(cnn_classifier, monkeypatch):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    import captioner
    from captioner.serving.app import create_app
    from serving import upload

    forbid_vgg16(monkeypatch)
    model = captioner.load(str(cnn_classifier / "model"), announce=False)
    clips = sorted((cnn_classifier / "clips").glob("*/*.mp4"))[:2] + sorted((cnn_classifier / "clips").glob("*/*.gif"))[:1]
    expected = model.classify([str(c) for c in clips], top_k=2)
    import time

    with TestClient(create_app(model)) as client:
        results = client.post("/v1/labels?top_k=2", files=upload(*clips)).json()["results"]  # waits for warm-up
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
