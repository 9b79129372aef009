"""train, caption, caption-folder, evaluate and demo, in-process on the tiny synthetic set."""

import csv
import json
import os
import shutil

import numpy as np
import pytest

JAVA = shutil.which("java") is not None  # METEOR runs where Java does


def test_train_writes_a_bundle_and_reports_bleu(trained, synthetic, run_cli, tmp_path):
    assert sorted(p for p in os.listdir(trained / "model") if not p.startswith(".")) == \
        ["checkpoints", "config.json", "decoder.weights.h5", "vocab.json"]
    config = json.loads((trained / "model" / "config.json").read_text())
    assert config["encoder"]["weights"] == "random" and config["training"]["epochs"] >= 1
    assert set(config["training"]["val_bleu_greedy"]) == {"bleu1", "bleu2", "bleu3", "bleu4"}
    # the same --out again without --resume is refused, clearly
    code, _, err = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", trained / "cache", "--out", trained / "model", "--weights", "random-tiny",
                           "--quiet")
    assert code == 2 and "--resume" in err


@pytest.mark.backend_independent  # what train prints
def test_train_stdout_names_bleu_and_random_encoder(synthetic, run_cli, tmp_path, trained):
    shutil.copytree(trained / "cache", tmp_path / "cache")
    code, out, _ = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", tmp_path / "cache", "--out", tmp_path / "m", "--weights", "random-tiny",
                           "--epochs", "1", "--units", "8", "--embed-dim", "8", "--quiet")
    assert code == 0
    assert "validation BLEU (greedy): BLEU-1" in out and "BLEU-4" in out and "RANDOM" in out
    assert "ended by the --epochs cap (1) with the validation loss still improving" in out  # one epoch is its best
    assert "train it further: the same command with --resume --epochs 2" in out


def test_train_prints_each_epochs_validation_measures(synthetic, run_cli, tmp_path, trained):
    shutil.copytree(trained / "cache", tmp_path / "cache")
    code, _, err = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", tmp_path / "cache", "--out", tmp_path / "m", "--weights", "random-tiny",
                           "--epochs", "2", "--units", "8", "--embed-dim", "8")
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("epoch ")]
    history = json.loads((tmp_path / "m" / "config.json").read_text())["training"]["history"]
    assert lines == [f"epoch {h['epoch']}: val loss {h['val_loss']:.4f}, val BLEU-4 {h['val_bleu4']:.4f}, val CIDEr-D "
                     f"{h['val_cider']:.4f} (best epoch {best})" for h, best in
                     zip(history, [1, 1 if history[1]['val_loss'] >= history[0]['val_loss'] else 2])]


@pytest.mark.backend_independent  # the choice of the best epoch; training itself runs per backend elsewhere
def test_stop_on_cider_keeps_the_epoch_with_the_best_validation_cider(synthetic, run_cli, tmp_path, trained):
    shutil.copytree(trained / "cache", tmp_path / "cache")
    code, out, _ = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", tmp_path / "cache", "--out", tmp_path / "m", "--weights", "random-tiny",
                           "--epochs", "6", "--patience", "2", "--units", "8", "--embed-dim", "8", "--stop-on",
                           "cider", "--quiet")
    assert code == 0 and "validation CIDEr-D" in out
    training = json.loads((tmp_path / "m" / "config.json").read_text())["training"]
    ciders = [h["val_cider"] for h in training["history"]]
    best = int(np.argmax(ciders))  # the first epoch with the highest score
    assert training["best_epoch"] == best + 1 and training["best_val_cider"] == ciders[best]
    assert training["best_val_loss"] == training["history"][best]["val_loss"]
    assert training["settings"]["stop_on"] == "cider"
    assert len(ciders) == 6 or (training["stopped_early"] and len(ciders) - 1 - best == 2)


def test_caption_caption_folder_and_evaluate_agree(trained, synthetic, run_cli, tmp_path):
    model, cache = trained / "model", trained / "cache"
    code, out, _ = run_cli("evaluate", "--model", model, "--captions", synthetic / "captions.token.txt",
                           "--images", synthetic / "Images", "--cache", cache, "--split", "test",
                           "--json", tmp_path / "eval.json", "--quiet")
    assert code == 0
    for label in ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L", "CIDEr-D") + (("METEOR",) if JAVA else ()):
        assert f"| {label} |" in out
    assert "encoder weights RANDOM" in out and "beam 3" in out
    report = json.loads((tmp_path / "eval.json").read_text())
    assert {"bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "cider", "images", "beam_size", "encoder_weights"} \
        <= set(report)
    assert ("meteor" in report) == JAVA and ("METEOR skipped" in out) != JAVA
    assert not JAVA or 0 < report["meteor"] <= 1  # a real score: some words of every caption match
    for item in report["captions"]:  # per image: caption, references, scores
        assert item["references"] and {"bleu4", "cider", "rouge_l"} <= set(item)
        assert not JAVA or 0 <= item["meteor"] <= 1
    assert report["encoder_weights"] == "random" and report["beam_size"] == 3 and report["images"] == 2
    from_eval = {c["input"]: c["caption"] for c in report["captions"]}

    test_images = [str(synthetic / "Images" / k) for k in sorted(from_eval)]
    code, out, _ = run_cli("caption", "--model", model, *test_images)
    assert code == 0
    from_caption = {os.path.basename(line.split("\t")[0]): line.split("\t")[1] for line in out.splitlines()}

    folder = tmp_path / "folder"
    folder.mkdir()
    for p in test_images:
        shutil.copy(p, folder)
    code, out, _ = run_cli("caption-folder", "--model", model, folder, "--out", tmp_path / "r.jsonl", "--quiet")
    assert code == 0
    from_folder = {r["input"]: r["caption"] for r in map(json.loads, (tmp_path / "r.jsonl").read_text().splitlines())}
    assert from_eval == from_caption == from_folder
    if not JAVA:  # everything but METEOR was checked above; in CI a skip is a failure (tests/conftest.py)
        pytest.skip("no Java runtime: METEOR in evaluate's table and JSON was not checked")


def test_caption_json_and_num_captions(trained, synthetic, run_cli):
    image = synthetic / "Images" / "shapes_00000.jpg"
    code, out, err = run_cli("caption", "--model", trained / "model", image, "--json", "--num-captions", "3")
    assert code == 0 and "RANDOM" in err
    record = json.loads(out)
    assert record["input"] == str(image) and len(record["captions"]) == 3
    scores = [c["log_prob"] for c in record["captions"]]
    assert scores == sorted(scores, reverse=True) and record["caption"] == record["captions"][0]["caption"]
    code, out, err = run_cli("caption", "--model", trained / "model", image, image.parent / "gone.jpg", "--json")
    assert code == 1 and [json.loads(line) for line in out.splitlines()][1] == \
        {"input": str(image.parent / "gone.jpg"), "error": "file not found"}  # a failure has its line too
    assert f"skipped {image.parent / 'gone.jpg'}: file not found" in err
    code, _, err = run_cli("caption", "--model", trained / "model", image, "--num-captions", "4")
    assert code == 2 and "--beam-size" in err


@pytest.mark.backend_independent  # output formats and failures
def test_caption_folder_formats_and_errors(trained, synthetic, run_cli, tmp_path):
    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(synthetic / "Images" / "shapes_00001.jpg", folder / "000000397133.jpg")
    shutil.copy(synthetic / "Images" / "shapes_00002.jpg", folder / "sub" / "b.jpg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    for name in ("r.jsonl", "r.csv", "r.json"):
        code, out, err = run_cli("caption-folder", "--model", trained / "model", folder, "--out", tmp_path / name,
                                 "--recursive", "--quiet", "--beam-size", "1")
        assert code == 1 and "broken.jpg" in err and "Traceback" not in err
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert sorted(r["input"] for r in lines) == ["000000397133.jpg", "broken.jpg", "sub/b.jpg"]
    assert [r for r in lines if r["input"] == "broken.jpg"][0]["error"]
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert len(rows) == 3 and sum(bool(r["error"]) for r in rows) == 1
    coco = json.loads((tmp_path / "r.json").read_text())
    assert {e["image_id"] for e in coco} == {397133, "sub/b.jpg"}  # COCO results hold captioned images only
    assert all(set(e) == {"image_id", "caption", "file_name"} for e in coco)
    code, _, _ = run_cli("caption-folder", "--model", trained / "model", folder, "--out", tmp_path / "r.jsonl",
                         "--quiet", "--beam-size", "1")  # not recursive: sub/b.jpg is not considered
    assert code == 1 and len((tmp_path / "r.jsonl").read_text().splitlines()) == 2
    assert run_cli("caption-folder", "--model", trained / "model", folder, "--out", tmp_path / "r.txt")[0] == 2


@pytest.mark.slow
@pytest.mark.backend_independent  # the demo's glue; its stages run per backend in the tests above
def test_demo_runs_end_to_end(run_cli, tmp_path):
    code, out, _ = run_cli("demo", "--workdir", tmp_path / "demo", "--images", "12", "--epochs", "2", "--quiet",
                           "--no-meteor", "--weights", "random-tiny")
    assert code == 0
    assert "greedy  BLEU-1" in out and "beam 3  BLEU-1" in out and "objects right" in out and "CIDEr-D" in out
    assert "drawn scenes" in out and "RANDOM" in out and (tmp_path / "demo" / "model" / "config.json").exists()
    assert (tmp_path / "demo" / "report.html").exists()
    code, _, err = run_cli("demo", "--workdir", tmp_path / "demo", "--set", "shapes", "--quiet")
    assert code == 2 and "holds the other drawn set" in err and err.count("\n") == 1
    code, out, _ = run_cli("demo", "--workdir", tmp_path / "shapes", "--set", "shapes", "--images", "12", "--epochs",
                           "1", "--quiet", "--no-meteor", "--weights", "random-tiny")
    assert code == 0 and "colour+shape right" in out and "drawn shape images" in out


def test_training_curves_are_in_the_bundle_and_the_last_bleu_is_the_live_model(trained):
    training = json.loads((trained / "model" / "config.json").read_text())["training"]
    history = training["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert all({"loss", "val_loss", "val_bleu1", "val_bleu4", "seconds"} <= set(h) for h in history)
    # The bundle keeps the best epoch's weights: the BLEU measured after that epoch is the bundle's own.
    best = history[training["best_epoch"] - 1]
    for n in (1, 4):
        assert best[f"val_bleu{n}"] == pytest.approx(training["val_bleu_greedy"][f"bleu{n}"], abs=1e-4)


@pytest.mark.backend_independent  # the results file and the scorers
def test_coco_results_file_is_read_by_pycocotools_and_scores_as_coco_caption_does(trained, synthetic, run_cli,
                                                                                   tmp_path):
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    from pycocotools.coco import COCO

    from captioner.datasets import load_captions

    source = load_captions(str(synthetic / "captions.token.txt"))
    names = sorted(source.captions)
    annotations = {"images": [{"id": 5000 + i, "file_name": n} for i, n in enumerate(names)],
                   "annotations": [{"id": j, "image_id": 5000 + i, "caption": c}
                                   for i, n in enumerate(names) for j, c in enumerate(source.captions[n])]}
    annotations["annotations"] = [{**a, "id": k} for k, a in enumerate(annotations["annotations"])]
    (tmp_path / "coco.json").write_text(json.dumps(annotations))
    code, out, _ = run_cli("evaluate", "--model", trained / "model", "--captions", tmp_path / "coco.json",
                           "--images", synthetic / "Images", "--cache", trained / "cache", "--split", "all",
                           "--beam-size", "1", "--no-meteor", "--json", tmp_path / "e.json",
                           "--coco-results", tmp_path / "results.json", "--quiet")
    assert code == 0 and "METEOR skipped: left out on request" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert sorted(r["image_id"] for r in results) == list(range(5000, 5020))  # the file's own ids
    coco = COCO(str(tmp_path / "coco.json"))
    coco_res = coco.loadRes(str(tmp_path / "results.json"))  # accepted unchanged
    ids = coco.getImgIds()
    gts = {i: coco.imgToAnns[i] for i in ids}
    res = {i: coco_res.imgToAnns[i] for i in ids}
    if JAVA:  # coco-caption's own (Java) tokenizer; else ours, and the scorers alone are compared
        tokenizer = PTBTokenizer()
        gts, res = tokenizer.tokenize(gts), tokenizer.tokenize(res)
    else:
        from captioner.evaluation.ptb_tokens import PtbTokenizer

        tok = PtbTokenizer()
        gts = {i: [tok(a["caption"]) for a in anns] for i, anns in gts.items()}
        res = {i: [tok(a["caption"]) for a in anns] for i, anns in res.items()}
    ours = json.loads((tmp_path / "e.json").read_text())
    theirs = {"cider": Cider().compute_score(gts, res)[0], "rouge_l": Rouge().compute_score(gts, res)[0],
              **{f"bleu{n}": b for n, b in enumerate(Bleu(4).compute_score(gts, res, verbose=0)[0], 1)}}
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(value, abs=1e-4), name
    if not JAVA:
        pytest.skip("no Java runtime: scored with our PTB tokens, not coco-caption's Java tokenizer")
