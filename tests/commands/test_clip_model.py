"""Clip models end to end on a few drawn clips: masking, train/evaluate/caption/caption-folder agreement,
MSR-VTT, mixed folders, and an extraction killed and resumed."""

import json
import os
import re
import shutil
import sys

import numpy as np
import pytest

from tests.support.killing import kill_after_shards
from tests.support.oddclips import frames_of, make_bad_clips, write_video

FRAMES = 4


@pytest.mark.parametrize("frame_encoder", ["lstm", "mean"])
def test_short_clips_are_masked_not_padded_with_copies(frame_encoder):
    from captioner.models.decoder import DecoderConfig, build_decoder

    def decoder(frames):
        return build_decoder(DecoderConfig(vocab_size=10, feature_dim=12, units=8, embed_dim=4, frames=frames,
                                           frame_encoder=frame_encoder))

    short, long = decoder(3), decoder(8)
    long.set_weights(short.get_weights())  # the frame encoder's weights do not depend on N
    rng = np.random.default_rng(0)
    clip = rng.random((2, 3, 12)).astype("float32") + 0.1
    padded = np.concatenate([clip, np.zeros((2, 5, 12), "float32")], axis=1)
    np.testing.assert_allclose(np.asarray(long._image(padded)), np.asarray(short._image(clip)), atol=1e-5)
    # ...and the padding is not ignored by accident: other real frames do change the result
    other = padded.copy()
    other[:, 4] = 1.0
    assert not np.allclose(np.asarray(long._image(other)), np.asarray(long._image(padded)), atol=1e-4)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    from captioner.drawn.shape_clips import write_synthetic_clips

    directory = tmp_path_factory.mktemp("clips")
    write_synthetic_clips(str(directory), num_clips=20, seed=3, side=64)
    return directory


@pytest.fixture(scope="module")
def clip_model(clips, tmp_path_factory):
    from captioner.cli import main

    work = tmp_path_factory.mktemp("clip_model")
    code = main(["train", "--captions", str(clips / "captions.csv"), "--images", str(clips / "Clips"),
                 "--cache", str(work / "cache"), "--out", str(work / "model"), "--weights", "random-tiny",
                 "--frames", str(FRAMES), "--epochs", "2", "--units", "16", "--embed-dim", "8", "--quiet"])
    assert code == 0
    return work


@pytest.mark.slow  # trains the clip model
def test_bundle_says_it_takes_clips_and_a_version_2_bundle_still_loads(clip_model, tmp_path):
    import shutil

    from captioner.models.bundle import load_bundle

    config = json.loads((clip_model / "model" / "config.json").read_text())
    assert config["version"] == 3 and config["decoder"]["cnn"] is None
    assert config["decoder"]["frames"] == FRAMES and config["decoder"]["frame_encoder"] == "lstm"
    assert load_bundle(str(clip_model / "model")).takes == f"clips of {FRAMES} frames"
    old = tmp_path / "old"
    shutil.copytree(clip_model / "model", old, ignore=shutil.ignore_patterns("checkpoints"))
    del config["decoder"]["cnn"]  # what a version 2 bundle (before models with their own CNN) holds
    (old / "config.json").write_text(json.dumps({**config, "version": 2}))
    bundle = load_bundle(str(old))
    assert bundle.config.frame_encoder == "lstm" and bundle.config.cnn is None and bundle.frames == FRAMES


@pytest.mark.slow  # trains the clip model
def test_caption_caption_folder_and_evaluate_agree_on_clips(clips, clip_model, run_cli, tmp_path):
    model, cache = clip_model / "model", clip_model / "cache"
    code, out, _ = run_cli("evaluate", "--model", model, "--captions", clips / "captions.csv", "--images",
                           clips / "Clips", "--cache", cache, "--split", "test", "--json", tmp_path / "e.json",
                           "--html", tmp_path / "e.html", "--no-meteor", "--quiet")
    assert code == 0 and f"clips 4 ({FRAMES} frames each)" in out and "| BLEU-4 |" in out and "| CIDEr-D |" in out
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["frames"] == FRAMES and len(report["captions"]) == 4
    page = (tmp_path / "e.html").read_text()
    strips = re.findall(r'<td class="preview">(.*?)</td>', page)
    assert len(strips) == 4 and all(s.count("<img ") == FRAMES for s in strips)  # each clip as its sampled frames
    truth = json.loads((clips / "truth.json").read_text())
    from_eval = {truth[c["input"]]["file"]: c["caption"] for c in report["captions"]}

    files = [str(clips / "Clips" / name) for name in sorted(from_eval)]
    code, out, _ = run_cli("caption", "--model", model, *files)
    assert code == 0
    from_caption = {os.path.basename(line.split("\t")[0]): line.split("\t")[1] for line in out.splitlines()}

    folder = tmp_path / "folder"
    folder.mkdir()
    for path in files:
        shutil.copy(path, folder)
    code, _, _ = run_cli("caption-folder", "--model", model, folder, "--out", tmp_path / "r.jsonl", "--quiet")
    assert code == 0
    from_folder = {r["input"]: r["caption"] for r in map(json.loads, (tmp_path / "r.jsonl").read_text().splitlines())}
    assert from_eval == from_caption == from_folder


@pytest.mark.slow  # trains the clip model
@pytest.mark.backend_independent  # a caption file layout
def test_msrvtt_layout_trains_and_evaluates(clips, clip_model, run_cli, tmp_path):
    truth = json.loads((clips / "truth.json").read_text())
    split = dict(line.split("\t") for line in (clips / "split.tsv").read_text().splitlines())
    msrvtt = {"videos": [{"video_id": k, "split": {"val": "validate"}.get(split[k], split[k])} for k in truth],
              "sentences": [{"video_id": k, "caption": f"a {t['colour']} {t['shape']} moving {t['direction']}"}
                            for k, t in truth.items()]}
    (tmp_path / "videodatainfo.json").write_text(json.dumps(msrvtt))
    shutil.copytree(clip_model / "cache", tmp_path / "cache")  # same clip ids: nothing is extracted again
    common = ["--captions", tmp_path / "videodatainfo.json", "--images", clips / "Clips", "--cache", tmp_path / "cache",
              "--quiet"]
    code, out, _ = run_cli("train", *common, "--out", tmp_path / "m", "--weights", "random-tiny", "--frames", FRAMES,
                           "--epochs", "1", "--units", "8", "--embed-dim", "8", "--frame-encoder", "mean")
    assert code == 0 and "msrvtt captions: 20 clips" in out
    code, out, _ = run_cli("evaluate", "--model", tmp_path / "m", *common, "--split", "test", "--no-meteor")
    assert code == 0 and "clips 4" in out


@pytest.mark.slow  # trains the clip model
@pytest.mark.backend_independent  # which file goes to which model
def test_mixed_folders_report_the_other_kind(clips, clip_model, trained, synthetic, run_cli, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(synthetic / "Images" / "shapes_00000.jpg", folder / "photo.jpg")
    name = sorted(os.listdir(clips / "Clips"))[0]
    shutil.copy(clips / "Clips" / name, folder / name)
    write_video(str(folder / "v.mp4"), frames_of(6))

    code, out, err = run_cli("caption-folder", "--model", clip_model / "model", folder, "--out", tmp_path / "c.jsonl",
                             "--quiet")
    records = {r["input"]: r for r in map(json.loads, (tmp_path / "c.jsonl").read_text().splitlines())}
    assert code == 1 and "Traceback" not in err
    assert records["photo.jpg"]["error"] == "an image; this model describes clips"
    assert "caption" in records[name] and "caption" in records["v.mp4"]

    code, out, err = run_cli("caption-folder", "--model", trained / "model", folder, "--out", tmp_path / "i.jsonl",
                             "--quiet")
    records = {r["input"]: r for r in map(json.loads, (tmp_path / "i.jsonl").read_text().splitlines())}
    assert code == 1 and records["v.mp4"]["error"] == "a video clip; this model describes images"
    assert "caption" in records["photo.jpg"]


@pytest.mark.slow  # trains the clip model
@pytest.mark.backend_independent  # bad files, named
def test_bad_clips_are_named_once_by_caption_and_caption_folder(clip_model, run_cli, tmp_path):
    expect = make_bad_clips(str(tmp_path / "bad"))
    code, out, err = run_cli("caption-folder", "--model", clip_model / "model", tmp_path / "bad", "--out",
                             tmp_path / "b.jsonl", "--quiet")
    assert code == 1 and "Traceback" not in err
    records = {r["input"]: r for r in map(json.loads, (tmp_path / "b.jsonl").read_text().splitlines())}
    assert set(records) == set(expect)
    for name, word in expect.items():
        assert word in records[name]["error"], name
        assert sum(line.startswith("skipped ") and f"{name}:" in line for line in err.splitlines()) == 1
    code, out, err = run_cli("caption", "--model", clip_model / "model", tmp_path / "bad" / "audio.mp4")
    assert code == 1 and "audio.mp4: no video stream" in err and "Traceback" not in err


@pytest.mark.slow  # trains the clip model
@pytest.mark.backend_independent  # a refusal before any Keras
def test_image_model_refuses_a_clip_caption_file(clips, trained, run_cli, tmp_path):
    code, _, err = run_cli("evaluate", "--model", trained / "model", "--captions", clips / "captions.csv", "--images",
                           clips / "Clips", "--cache", tmp_path / "c", "--quiet")
    assert code == 2 and "describes images" in err and "captions.csv" in err


@pytest.mark.slow
@pytest.mark.backend_independent  # a kill and a resume
def test_clip_extraction_killed_midway_resumes_without_duplicates(clips, tmp_path, run_cli):
    args = ["extract", str(clips / "Clips"), "--weights", "random-tiny", "--frames", str(FRAMES), "--batch-size",
            str(FRAMES), "--quiet", "--cache"]
    killed = tmp_path / "killed"
    kill_after_shards([sys.executable, "-m", "captioner", *args, str(killed)], killed)
    from captioner.features.cache import FeatureCache

    partial = {k.split("@")[0] for k in FeatureCache.open(str(killed)).keys()}
    assert 0 < len(partial) < 20, "the kill should land midway"
    code, out, err = run_cli(*args, killed)  # the rerun needs no process of its own
    assert code == 0, err
    assert f"{20 - len(partial)} extracted" in out and f"{len(partial)} already cached" in out
    keys = FeatureCache.open(str(killed)).keys()
    assert len(keys) == len(set(keys)) == 20 * FRAMES  # every clip has >= 12 frames: FRAMES each, no duplicates
    assert {k.split("@")[1].split(":")[0] for k in keys} == {str(FRAMES)}


@pytest.mark.slow
@pytest.mark.backend_independent  # the demo's glue; clip models per backend above
def test_video_demo_runs_end_to_end(run_cli, tmp_path):
    code, out, _ = run_cli("demo", "--video", "--workdir", tmp_path / "vd", "--clips", "10", "--frames", "2",
                           "--epochs", "1", "--quiet", "--no-meteor", "--weights", "random-tiny")
    assert code == 0
    assert "greedy  BLEU-1" in out and "direction right" in out and "colour right" in out and "RANDOM" in out
    assert "CIDEr-D" in out and (tmp_path / "vd" / "report.html").exists()
    config = json.loads((tmp_path / "vd" / "model" / "config.json").read_text())
    assert config["decoder"]["frames"] == 2


@pytest.mark.slow  # trains the clip model
def test_the_python_api_captions_clips_from_paths_frames_and_gif_bytes(clips, clip_model, run_cli, tmp_path):
    import captioner
    from captioner.inputs.frames import load_clip

    files = sorted(str(p) for p in (clips / "Clips").iterdir())
    video = next(f for f in files if f.endswith(".mp4"))
    gif = next(f for f in files if f.endswith(".gif"))
    code, out, _ = run_cli("caption", "--model", clip_model / "model", video, gif, "--json", "--beam-size", "2")
    assert code == 0
    cli = {r["input"]: r["caption"] for r in map(json.loads, out.splitlines())}
    model = captioner.load(str(clip_model / "model"))
    assert model.frames == FRAMES
    frames = load_clip(video, FRAMES)  # (k, 224, 224, 3) uint8, as the command samples them
    results = model.caption([video, list(frames), frames, open(gif, "rb").read(), frames[0]], beam_size=2)
    assert [r.text for r in results[:4]] == [cli[video], cli[video], cli[video], cli[gif]]
    assert results[4].error == "an image; this model describes clips"
