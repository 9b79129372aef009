"""A caption model trained on the drawn scenes (random tiny encoder: varied captions in ~20 s), its test split's
images, and its exports, each made once per test module that asks.

Its features are cached as float32: with the default float16 cache the graph rounds fresh features to float16 as
`captioner caption` does, and the random tiny encoder's features (up to ~700) sit where float16's steps are 0.5,
so float32 noise that moves one across a rounding boundary moves a log-probability by ~1e-3 (a test below
states that agreement on its own)."""

import pathlib

import pytest


@pytest.fixture(scope="module")
def scenes_model(tmp_path_factory):
    """(bundle directory, the test split's image paths): 600 drawn scenes, 30 epochs at most."""
    from captioner.cli import main
    from captioner.drawn.scenes import write_drawn_scenes

    work = tmp_path_factory.mktemp("scenes")
    captions = pathlib.Path(write_drawn_scenes(str(work / "scenes"), num_images=600, seed=5))
    assert main(["extract", str(captions.parent / "Images"), "--cache", str(work / "cache"), "--dtype", "float32",
                 "--weights", "random-tiny", "--quiet"]) == 0
    code = main(["train", "--captions", str(captions), "--images", str(captions.parent / "Images"), "--cache",
                 str(work / "cache"), "--out", str(work / "model"), "--weights", "random-tiny", "--epochs", "30",
                 "--units", "128", "--embed-dim", "32", "--seed", "1", "--quiet"])
    assert code == 0
    test = [line.strip() for line in (captions.parent / "scenes.testImages.txt").read_text().splitlines() if line]
    return work / "model", [str(captions.parent / "Images" / name) for name in test]


@pytest.fixture(scope="module")
def export_of(scenes_model, tmp_path_factory):
    """export_of(format, search, beam_size, precision) -> the path written, each made once."""
    import captioner

    made = {}
    out_dir = tmp_path_factory.mktemp("exports")

    def export(fmt: str, search: str = "greedy", beam_size: int = 3, precision: str = "float32") -> pathlib.Path:
        key = (fmt, search, beam_size, precision)
        if key not in made:
            suffix = {"onnx": ".onnx", "litert": ".tflite", "saved_model": ""}[fmt]
            out = out_dir / f"{fmt}-{search}{beam_size}-{precision}{suffix}"
            captioner.export(str(scenes_model[0]), fmt, str(out), search, beam_size, precision=precision)
            made[key] = out
        return made[key]

    return export
