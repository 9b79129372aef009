"""The Python API: `captioner.load(...).caption(...)` and friends give what the commands give, for every kind of
input; bad inputs are per-item errors, usage errors raise CaptionerError subclasses; a model keeps its search."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import captioner
from captioner.features import encoder as encoder_module
from captioner.search import searcher


def _images(synthetic, n, start=0):
    return sorted(str(p) for p in (synthetic / "Images").iterdir())[start:start + n]


@pytest.mark.backend_independent
def test_import_captioner_loads_no_keras_tensorflow_jax_or_numpy():
    code = ("import sys, time; t = time.perf_counter(); import captioner; t = time.perf_counter() - t; "
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow', 'jax', 'numpy', 'PIL'}); "
            "print(heavy, captioner.__version__, sorted(captioner.__all__)[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("[] ") and captioner.__version__ in out


@pytest.mark.backend_independent
def test_every_public_name_resolves_and_has_a_docstring():
    for name in captioner.__all__:
        value = getattr(captioner, name)
        if name != "__version__":
            assert value.__doc__ and len(value.__doc__.strip()) > 20, name
    with pytest.raises(AttributeError):
        captioner.no_such_name  # noqa: B018


def test_caption_gives_the_clis_captions_for_paths_pil_images_arrays_and_bytes(trained, synthetic, run_cli):
    paths = _images(synthetic, 3)
    code, out, _ = run_cli("caption", "--model", trained / "model", *paths, "--json", "--num-captions", "2")
    assert code == 0
    cli = [json.loads(line) for line in out.splitlines()]
    model = captioner.load(str(trained / "model"))
    pil = Image.open(paths[1])
    inputs = [paths[0], pil, np.asarray(Image.open(paths[2]).convert("RGB")), open(paths[0], "rb").read()]
    results = model.caption(inputs, beam_size=3, num_captions=2)
    assert [r.text for r in results] == [cli[0]["caption"], cli[1]["caption"], cli[2]["caption"], cli[0]["caption"]]
    assert results[0].input == paths[0] and results[1].input == "<PIL.Image #1>" and results[2].input == "<ndarray #2>"
    for result, record in zip(results, cli + cli[:1]):
        assert result.error is None and len(result.captions) == 2
        assert result.log_prob == pytest.approx(record["log_prob"], abs=1e-3)
        assert [c.text for c in result.captions] == [c["caption"] for c in record["captions"]]


@pytest.mark.backend_independent  # the API and the command share the code; it is compared once
def test_a_bad_item_is_its_own_error_with_the_clis_reason(trained, synthetic, tmp_path, run_cli):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    good = _images(synthetic, 1)[0]
    code, _, err = run_cli("caption", "--model", trained / "model", str(empty), good)
    assert code == 1
    model = captioner.load(str(trained / "model"))
    results = model.caption([str(empty), good, b"", np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8),
                             [np.zeros((8, 8, 3), np.uint8)], str(tmp_path / "missing.png")], beam_size=1)
    assert [r.error is None for r in results] == [False, True, False, False, False, False, False]
    assert f"skipped {empty}: {results[0].error}" in err and results[0].error == "empty file (0 bytes)"
    assert results[0].text is None and results[0].captions == [] and results[1].text
    assert results[2].error == "empty file (0 bytes)"
    assert "float32" in results[3].error and "(4, 4)" in results[4].error
    assert results[5].error == "a sequence of frames (a clip); this model describes images"
    assert results[6].error == "file not found"


@pytest.mark.backend_independent  # the API and the command share the code; it is compared once
def test_usage_errors_raise_captioner_errors(trained, synthetic, tmp_path):
    model = captioner.load(str(trained / "model"))
    with pytest.raises(captioner.InputError, match="pass a list"):
        model.caption(_images(synthetic, 1)[0])
    with pytest.raises(captioner.InputError, match="pass a list"):
        model.caption(open(_images(synthetic, 1)[0], "rb"))  # one file object, not in a list
    with pytest.raises(captioner.UsageError, match="num_captions 3 needs a beam_size of at least 3"):
        model.caption(_images(synthetic, 1), beam_size=2, num_captions=3)
    with pytest.raises(captioner.BundleError, match="no such model directory"):
        captioner.load(str(tmp_path / "nothing"))
    with pytest.raises(captioner.UsageError, match=r"label smoothing 1.0: give a share in \[0, 1\)"):
        captioner.train(str(tmp_path / "m"), str(tmp_path / "c"), captions=str(synthetic / "captions.token.txt"),
                        images=str(synthetic / "Images"), weights="random-tiny", label_smoothing=1.0)
    assert not (tmp_path / "m").exists()
    assert issubclass(captioner.BundleError, captioner.CaptionerError)
    assert issubclass(captioner.InputError, captioner.CaptionerError)


def test_a_second_call_with_the_same_settings_compiles_nothing(trained, synthetic, monkeypatch):
    traces = []
    run = searcher.Searcher._run

    def counted(self, *args, **kwargs):  # the Python body runs only while a compiled search is traced
        traces.append(1)
        return run(self, *args, **kwargs)

    shapes = []  # the encoder's batch shapes: JAX compiles once per shape

    def padded(batch, rows):
        out = pad(batch, rows)
        shapes.append(tuple(out.shape))
        return out

    pad = encoder_module.padded_batch
    monkeypatch.setattr(searcher.Searcher, "_run", counted)
    monkeypatch.setattr(encoder_module, "padded_batch", padded)
    model = captioner.load(str(trained / "model"))
    first = model.caption(_images(synthetic, 5), beam_size=3)
    assert traces and all(r.text for r in first) and shapes == [(8, 224, 224, 3)]
    after_first = len(traces)
    second = model.caption(_images(synthetic, 7, start=5), beam_size=3)  # other images, 7 rows: padded to 8 too
    assert len(traces) == after_first and all(r.text for r in second) and set(shapes) == {(8, 224, 224, 3)}
    model.caption(_images(synthetic, 2), beam_size=1)  # other settings: their own search
    assert len(traces) > after_first


@pytest.mark.backend_independent  # the API and the command share the code; it is compared once
def test_caption_folder_writes_what_the_command_writes(trained, synthetic, tmp_path, run_cli):
    code, _, _ = run_cli("caption-folder", "--model", trained / "model", synthetic / "Images", "--out",
                         tmp_path / "cli.jsonl", "--quiet")
    assert code == 0
    model = captioner.load(str(trained / "model"))
    report = model.caption_folder(str(synthetic / "Images"), out=str(tmp_path / "api.jsonl"))
    assert report.failed == 0 and report.captioned == 20
    assert (tmp_path / "api.jsonl").read_text() == (tmp_path / "cli.jsonl").read_text()


@pytest.mark.backend_independent  # the API and the command share the code; it is compared once
def test_evaluate_gives_the_commands_scores(trained, synthetic, tmp_path, run_cli):
    args = ["--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
            "--cache", trained / "cache", "--split", "all", "--beam-size", "2", "--no-meteor"]
    code, _, _ = run_cli("evaluate", "--model", trained / "model", *args, "--json", tmp_path / "e.json", "--quiet")
    assert code == 0
    cli = json.loads((tmp_path / "e.json").read_text())
    report = captioner.evaluate(captioner.load(str(trained / "model")), str(trained / "cache"),
                                captions=str(synthetic / "captions.token.txt"), images=str(synthetic / "Images"),
                                split=None, beam_size=2, meteor=False)
    assert report.metrics == pytest.approx({k: cli[k] for k in report.metrics})
    assert set(report.metrics) == {"bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "cider"}
    assert [item["caption"] for item in report.items] == [item["caption"] for item in cli["captions"]]


@pytest.mark.backend_independent
def test_extract_reports_what_it_did_and_names_bad_files(synthetic, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for path in _images(synthetic, 3):
        (folder / path.rsplit("/", 1)[1]).write_bytes(open(path, "rb").read())
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    skipped = []
    report = captioner.extract([str(folder)], cache=str(tmp_path / "cache"), weights="random-tiny",
                               on_skip=lambda path, reason: skipped.append(reason))
    assert (report.extracted, report.total, len(report.failed)) == (3, 4, 1) and report.root == str(folder)
    assert skipped == [report.failed[0][1]] and report.failed[0][0].endswith("broken.jpg")
    again = captioner.extract([str(folder)], cache=str(tmp_path / "cache"), weights="random-tiny")
    assert (again.extracted, again.cached) == (0, 3)


@pytest.mark.backend_independent  # the API and the command share the code; it is compared once
def test_in_memory_bytes_of_a_png_and_an_exif_rotated_pil_image(trained, tmp_path):
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    path = tmp_path / "a.png"
    path.write_bytes(buffer.getvalue())
    model = captioner.load(str(trained / "model"))
    results = model.caption([str(path), buffer.getvalue(), img, np.asarray(img)], beam_size=1)
    assert len({r.text for r in results}) == 1 and results[0].text


@pytest.mark.backend_independent  # the API's inputs; the encoder and search are the tested ones
def test_file_objects_are_taken_and_an_input_of_another_kind_is_its_own_error(trained, synthetic):
    import io

    model = captioner.load(str(trained / "model"))
    path = _images(synthetic, 1)[0]
    data = open(path, "rb").read()
    with open(path, "rb") as opened:
        results = model.caption([io.BytesIO(data), opened, None, 42, io.StringIO("text"), path])
    assert [r.error for r in results[:2]] == [None, None]
    assert results[0].text == results[1].text == results[5].text  # the same picture, however it came
    kinds = ("a path, a PIL.Image, a uint8 array (H, W, 3), encoded image bytes, a binary file object, "
             "or a clip's frames")
    assert results[2].error == f"unsupported input: a NoneType; pass {kinds}"
    assert results[3].error == f"unsupported input: a int; pass {kinds}"
    assert results[4].error == "a file object opened as text; open it in binary mode ('rb')"
    assert [r.input for r in results[:5]] == ["<BytesIO #0>", "<BufferedReader #1>", "<NoneType #2>", "<int #3>",
                                              "<StringIO #4>"]
