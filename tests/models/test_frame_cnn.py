"""The clip models' own CNN (`--frame-encoder cnn`): TimeDistributed layers trained with the LSTM, frames cached
once as uint8 pixels (crash-safe, resumable), the docs' Keras example. Bundles: test_frame_cnn_bundles.py."""

import sys

import numpy as np
import pytest

from tests.support.frame_cnn_flags import CNN_FLAGS, FRAMES, SIZE
from tests.support.killing import kill_after_shards


def test_every_layer_is_its_own_time_distributed_and_learns_from_the_lstm():
    from captioner.base.backend import import_keras
    from captioner.models.classifier import ClassifierConfig, build_classifier
    from captioner.models.model_configs import FrameCnn

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
    from captioner.drawn.activities import write_activity_set
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
    from captioner.drawn.activities import write_activity_set
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


def test_the_docs_keras_example_is_the_cnn_the_models_build(capsys):
    import pathlib
    import re

    from captioner.models.frame_cnn import FrameCnn, frame_cnn

    text = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Clips with a CNN of their own"):]
    end = section.find("\n## ", 1)
    block = re.findall(r"```python\n(.*?)```", section[:end if end > 0 else None], flags=re.S)[0]
    scope: dict = {}
    exec(compile(block, "docs/training.md (the frame CNN)", "exec"), scope)
    readme = scope["frame_cnn"]
    ours = frame_cnn(FrameCnn())
    ours.build((None, scope["frames"], 64, 64, 3))
    assert "Total params" in capsys.readouterr().out  # the block prints its summary
    assert [type(layer.layer).__name__ for layer in readme.layers] == [type(layer.layer).__name__ for layer in ours.layers]
    assert [w.shape for w in readme.weights] == [w.shape for w in ours.weights]
    assert readme.count_params() == ours.count_params()
