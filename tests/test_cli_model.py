"""train, caption, caption-folder, evaluate and demo, in-process on the tiny synthetic set."""

import csv
import json
import os
import shutil


def test_train_writes_a_bundle_and_reports_bleu(trained, synthetic, run_cli, tmp_path):
    assert sorted(p for p in os.listdir(trained / "model") if not p.startswith(".")) == \
        ["checkpoints", "config.json", "decoder.weights.h5", "vocab.json"]
    config = json.loads((trained / "model" / "config.json").read_text())
    assert config["encoder"]["weights"] == "random" and config["training"]["epochs"] >= 1
    assert set(config["training"]["val_bleu_greedy"]) == {"bleu1", "bleu2", "bleu3", "bleu4"}
    # the same --out again without --resume is refused, clearly
    code, _, err = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", trained / "cache", "--out", trained / "model", "--weights", "random", "--quiet")
    assert code == 2 and "--resume" in err


def test_train_stdout_names_bleu_and_random_encoder(synthetic, run_cli, tmp_path, trained):
    shutil.copytree(trained / "cache", tmp_path / "cache")
    code, out, _ = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", tmp_path / "cache", "--out", tmp_path / "m", "--weights", "random",
                           "--epochs", "1", "--units", "8", "--embed-dim", "8", "--quiet")
    assert code == 0
    assert "validation BLEU (greedy): BLEU-1" in out and "BLEU-4" in out and "RANDOM" in out


def test_caption_caption_folder_and_evaluate_agree(trained, synthetic, run_cli, tmp_path):
    model, cache = trained / "model", trained / "cache"
    code, out, _ = run_cli("evaluate", "--model", model, "--captions", synthetic / "captions.token.txt",
                           "--images", synthetic / "Images", "--cache", cache, "--split", "test",
                           "--json", tmp_path / "eval.json", "--quiet")
    assert code == 0
    for n in range(1, 5):
        assert f"| BLEU-{n} |" in out
    assert "encoder weights RANDOM" in out and "beam 3" in out
    report = json.loads((tmp_path / "eval.json").read_text())
    assert {"bleu1", "bleu2", "bleu3", "bleu4", "images", "beam_size", "encoder_weights"} <= set(report)
    assert report["encoder_weights"] == "random" and report["beam_size"] == 3 and report["images"] == 2
    from_eval = {c["image"]: c["caption"] for c in report["captions"]}

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
    from_folder = {r["image"]: r["caption"] for r in map(json.loads, (tmp_path / "r.jsonl").read_text().splitlines())}
    assert from_eval == from_caption == from_folder


def test_caption_json_and_num_captions(trained, synthetic, run_cli):
    image = synthetic / "Images" / "shapes_00000.jpg"
    code, out, err = run_cli("caption", "--model", trained / "model", image, "--json", "--num-captions", "3")
    assert code == 0 and "RANDOM" in err
    record = json.loads(out)
    assert record["image"] == str(image) and len(record["captions"]) == 3
    scores = [c["log_prob"] for c in record["captions"]]
    assert scores == sorted(scores, reverse=True) and record["caption"] == record["captions"][0]["caption"]
    code, _, err = run_cli("caption", "--model", trained / "model", image, "--num-captions", "4")
    assert code == 2 and "--beam-size" in err


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
    assert sorted(r["image"] for r in lines) == ["000000397133.jpg", "broken.jpg", "sub/b.jpg"]
    assert [r for r in lines if r["image"] == "broken.jpg"][0]["error"]
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert len(rows) == 3 and sum(bool(r["error"]) for r in rows) == 1
    coco = json.loads((tmp_path / "r.json").read_text())
    assert {e["image_id"] for e in coco} == {397133, "broken.jpg", "sub/b.jpg"}
    code, _, _ = run_cli("caption-folder", "--model", trained / "model", folder, "--out", tmp_path / "r.jsonl",
                         "--quiet", "--beam-size", "1")  # not recursive: sub/b.jpg is not considered
    assert code == 1 and len((tmp_path / "r.jsonl").read_text().splitlines()) == 2
    assert run_cli("caption-folder", "--model", trained / "model", folder, "--out", tmp_path / "r.txt")[0] == 2


def test_demo_runs_end_to_end(run_cli, tmp_path):
    code, out, _ = run_cli("demo", "--workdir", tmp_path / "demo", "--images", "12", "--epochs", "2", "--quiet")
    assert code == 0
    assert "greedy  BLEU-1" in out and "beam 3  BLEU-1" in out and "colour+shape right" in out
    assert "RANDOM" in out and (tmp_path / "demo" / "model" / "config.json").exists()
