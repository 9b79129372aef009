"""A clip model exported: clips of N sampled frames (fewer for a short clip, its frame count saying so) give the
bundle's captions under ONNX Runtime and LiteRT, from the command line and the API."""

import json

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.backend_independent]  # a clip model trained and exported: TensorFlow

FRAMES = 6


@pytest.fixture(scope="module")
def clip_model(tmp_path_factory):
    from captioner.cli import main
    from captioner.drawn.shape_clips import write_synthetic_clips

    work = tmp_path_factory.mktemp("clip-export")
    write_synthetic_clips(str(work / "clips"), num_clips=40, seed=4, side=64)
    assert main(["extract", str(work / "clips" / "Clips"), "--cache", str(work / "cache"), "--frames", str(FRAMES),
                 "--dtype", "float32", "--weights", "random-tiny", "--quiet"]) == 0
    assert main(["train", "--captions", str(work / "clips" / "captions.csv"), "--images", str(work / "clips" / "Clips"),
                 "--cache", str(work / "cache"), "--out", str(work / "model"), "--weights", "random-tiny",
                 "--frames", str(FRAMES), "--epochs", "8", "--units", "64", "--embed-dim", "16", "--quiet"]) == 0
    return work


def test_exported_clip_models_caption_clips_as_the_bundle_does(clip_model, tmp_path, run_cli):
    import captioner
    from PIL import Image

    clips = sorted(p for p in (clip_model / "clips" / "Clips").iterdir() if p.suffix in (".mp4", ".gif"))
    short = tmp_path / "short.gif"  # two frames: fewer than FRAMES, the rest padding
    frames = [Image.new("RGB", (64, 64), colour) for colour in ((200, 30, 30), (30, 30, 200))]
    frames[0].save(short, save_all=True, append_images=frames[1:], duration=100)
    inputs = [str(p) for p in clips] + [str(short)]
    bundle = captioner.load(str(clip_model / "model"), announce=False)
    want = {beam: bundle.caption(inputs, beam_size=beam) for beam in (1, 3)}
    assert len({r.caption for r in want[3]}) >= 3
    for fmt, suffix in (("onnx", ".onnx"), ("litert", ".tflite")):
        for search, beam in (("greedy", 1), ("beam", 3)):
            path = tmp_path / f"clips-{search}{suffix}"
            captioner.export(str(clip_model / "model"), fmt, str(path), search, beam)
            got = captioner.load(str(path), announce=False).caption(inputs)
            assert [r.caption for r in got] == [r.caption for r in want[beam]], (fmt, search)
            assert max(abs(g.log_prob - w.log_prob) for g, w in zip(got, want[beam])) <= 1e-3
    record = json.loads((tmp_path / "clips-beam.tflite.json").read_text())
    assert record["frames"] == FRAMES
    code, out, err = run_cli("caption", "--model", tmp_path / "clips-beam.onnx", short, tmp_path / "absent.mp4",
                             "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and lines[0]["caption"] == want[3][-1].caption and lines[1]["error"] == "file not found"
    out_file = tmp_path / "clips.jsonl"
    code, _, err = run_cli("caption-folder", "--model", tmp_path / "clips-greedy.onnx", clip_model / "clips" / "Clips",
                           "--out", out_file, "--quiet")
    records = {r["input"]: r for r in map(json.loads, out_file.read_text().splitlines())}
    for path, result in zip(clips, want[1]):
        assert records[path.name]["caption"] == result.caption
