"""A bundle on one split of a caption file (captioner/evaluation/scoring.py): which images are scored, against which
references, how each caption lines up with its image, what the report prints and writes. The search is replaced
by fixed captions and the cache by fixed features (both have their own tests), so the wiring is checked alone;
the scores are checked against the metrics' own function on the same pairs."""

from types import SimpleNamespace

import numpy as np
import pytest

from captioner.base.errors import UsageError
from captioner.datasets import load_captions
from captioner.evaluation import scoring
from captioner.evaluation.metrics import score_captions
from captioner.evaluation.scoring import check_kind, evaluate
from captioner.features.encoder import fingerprint

pytestmark = pytest.mark.backend_independent  # no network runs: captions are given

REFERENCES = {"000000000042.jpg": ["a dog runs on the grass", "a brown dog running"],
              "b.jpg": ["two cats sit on a sofa", "cats on a couch", "two cats resting"],
              "c.jpg": ["a man rides a bike"], "t.jpg": ["a training image"]}
SPLITS = {"000000000042.jpg": "test", "b.jpg": "test", "c.jpg": "test", "t.jpg": "train"}
CAPTIONS = {"000000000042.jpg": "a dog runs on grass", "b.jpg": "two cats on a sofa"}  # c.jpg could not be read

RANDOM = fingerprint("random", 0)


@pytest.fixture
def report(tmp_path, monkeypatch):
    lines = [f"{image}#{i}\t{text}" for image, texts in REFERENCES.items() for i, text in enumerate(texts)]
    (tmp_path / "captions.token.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "split.tsv").write_text("".join(f"{k}\t{v}\n" for k, v in SPLITS.items()), encoding="utf-8")
    captions = load_captions(str(tmp_path / "captions.token.txt"))
    asked = []

    def split_features(cache_dir, encoder, keys, root, weights, show_progress, frames, source, what):
        asked.append((keys, frames, what))
        readable = [k for k in keys if k in CAPTIONS]
        return readable, np.array([[i] for i, _ in enumerate(readable)], np.float32), len(keys) - len(readable)

    class FixedSearch:
        def best(self, features):
            keys = sorted(CAPTIONS)
            return [CAPTIONS[keys[int(row[0])]] for row in features]

    monkeypatch.setattr(scoring, "split_features", split_features)
    bundle = SimpleNamespace(frames=0, directory="runs/m", encoder=RANDOM, training={"epochs": 2},
                             feature_dtype="float16")
    result = evaluate(bundle, captions, "test", str(tmp_path / "Images"), "CACHE", beam_size=3, meteor=False,
                      show_progress=False, captioner=FixedSearch())
    return SimpleNamespace(result=result, asked=asked, captions=captions, bundle=bundle, root=tmp_path)


def test_only_the_split_is_scored_and_an_unreadable_image_is_counted_not_scored(report):
    assert report.asked == [(["000000000042.jpg", "b.jpg", "c.jpg"], 0, "images")]
    assert report.result.images == 2 and report.result.skipped == 1
    assert report.result.references == 5  # 2 + 3: the readable images' references
    assert report.result.split == "test" and report.result.beam_size == 3 and report.result.model == "runs/m"


def test_each_caption_is_scored_against_its_own_images_references(report):
    keys = ["000000000042.jpg", "b.jpg"]
    expected = score_captions([REFERENCES[k] for k in keys], [CAPTIONS[k] for k in keys], meteor=False)
    assert report.result.metrics == expected.corpus
    for item, key, each in zip(report.result.items, keys, expected.per_item):
        assert item["input"] == key and item["caption"] == CAPTIONS[key]
        assert item["references"] == REFERENCES[key]
        assert item["path"] == str(report.root / "Images" / key)
        assert {name: item[name] for name in each} == {name: round(v, 4) for name, v in each.items()}


def test_the_report_prints_its_table_line_and_coco_results(report):
    m = report.result.metrics
    assert report.result.table() == "\n".join([
        "images 2, references 5, split test, search beam 3, encoder weights RANDOM (not ImageNet)",
        "| metric | score |", "| --- | --- |",
        f"| BLEU-1 | {m['bleu1']:.4f} |", f"| BLEU-2 | {m['bleu2']:.4f} |", f"| BLEU-3 | {m['bleu3']:.4f} |",
        f"| BLEU-4 | {m['bleu4']:.4f} |", f"| ROUGE-L | {m['rouge_l']:.4f} |", f"| CIDEr-D | {m['cider']:.4f} |",
        "METEOR skipped: left out on request (--no-meteor)"])  # meteor=False: not computed, and said so
    assert report.result.line() == (f"BLEU-1 {m['bleu1']:.4f}  BLEU-2 {m['bleu2']:.4f}  BLEU-3 {m['bleu3']:.4f}  "
                                     f"BLEU-4 {m['bleu4']:.4f}  ROUGE-L {m['rouge_l']:.4f}  CIDEr-D {m['cider']:.4f}")
    assert report.result.captions() == [("000000000042.jpg", CAPTIONS["000000000042.jpg"]), ("b.jpg", CAPTIONS["b.jpg"])]
    assert report.result.coco_results() == [{"image_id": 42, "caption": CAPTIONS["000000000042.jpg"]},
                                            {"image_id": "b.jpg", "caption": CAPTIONS["b.jpg"]}]


def test_the_report_names_other_weights_clips_all_images_and_why_meteor_is_missing(report):
    clips = scoring.EvalReport({"bleu4": 0.25}, 3, 9, 1, None, fingerprint("imagenet"), [], frames=8,
                               meteor_skipped="no Java runtime on PATH")
    assert clips.table().splitlines() == [
        "clips 3 (8 frames each), references 9, split all, search greedy, encoder weights imagenet",
        "| metric | score |", "| --- | --- |", "| BLEU-4 | 0.2500 |", "METEOR skipped: no Java runtime on PATH"]


def test_the_json_holds_the_scores_settings_and_every_caption(report):
    from captioner.evaluation.metrics import SPICE_NOTE

    assert report.result.to_json() == {
        **report.result.metrics, "meteor_skipped": "left out on request (--no-meteor)", "spice": SPICE_NOTE, "images": 2, "references": 5,
        "beam_size": 3, "split": "test", "frames": 0, "encoder_weights": "random", "encoder": RANDOM.to_json(),
        "model": "runs/m", "training": {"epochs": 2}, "skipped_images": 1, "captions": report.result.items}


def test_an_empty_split_is_refused_naming_the_file(report):
    with pytest.raises(UsageError, match=r"captions.token.txt: no images in split 'val'"):
        evaluate(report.bundle, report.captions, "val", "Images", "CACHE", show_progress=False)


def test_a_caption_file_of_the_other_kind_is_refused_before_any_work(report, tmp_path):
    clip_model = SimpleNamespace(frames=8, directory="runs/clips", takes="clips of 8 frames")
    with pytest.raises(UsageError, match=r"names images; the model runs/clips describes clips of 8 frames"):
        check_kind(clip_model, report.captions)
    clip_file = tmp_path / "clips.csv"
    clip_file.write_text("image,caption\nv.mp4,a dog runs\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"names video clips; the model runs/m describes images"):
        check_kind(report.bundle, load_captions(str(clip_file)))
    gifs = tmp_path / "gifs.csv"
    gifs.write_text("image,caption\nmove.gif,a dog runs\n", encoding="utf-8")
    check_kind(clip_model, load_captions(str(gifs)))  # animated GIFs fit a clip model too


def test_evaluate_passes_the_bundle_split_and_settings_to_the_cache_and_the_search(report, monkeypatch, tmp_path):
    """Found by the mutation run: with the search and cache replaced, what evaluate hands them was unchecked."""
    made, features_asked, scored = [], [], []

    class Search:
        def __init__(self, *args, **kwargs):
            made.append((args, kwargs))

        def best(self, features):
            return ["a dog runs on grass" for _ in features]

    def split_features(*args):
        features_asked.append(args)
        return ["000000000042.jpg"], np.zeros((1, 1), np.float32), 0

    def score_captions(references, hypotheses, meteor):
        scored.append(meteor)
        return score_captions_real(references, hypotheses, meteor=False)

    score_captions_real = scoring.score_captions
    monkeypatch.setattr(scoring, "Captioner", Search)
    monkeypatch.setattr(scoring, "split_features", split_features)
    monkeypatch.setattr(scoring, "score_captions", score_captions)
    clip_bundle = SimpleNamespace(frames=0, directory="runs/m", encoder=fingerprint("random", 3),
                                  training={}, feature_dtype="float16", decoder="DECODER", vocab="VOCAB")
    evaluate(clip_bundle, report.captions, "test", "ROOT", "CACHE")  # every default
    assert features_asked == [("CACHE", fingerprint("random", 3), ["000000000042.jpg", "b.jpg", "c.jpg"],
                               "ROOT", None, True, 0, report.captions.source, "images")]
    assert made == [(("DECODER", "VOCAB"), {"beam_size": 1, "length_penalty": 0.0, "feature_dtype": "float16"})]
    assert scored == [True]  # METEOR unless told otherwise
    evaluate(clip_bundle, report.captions, "test", "ROOT", "CACHE", beam_size=5, weights="w.h5", show_progress=False,
             length_penalty=0.5, meteor=False)
    assert features_asked[1][4:6] == ("w.h5", False) and made[1][1]["beam_size"] == 5
    assert made[1][1]["length_penalty"] == 0.5 and scored[1] is False


def test_a_clip_models_report_names_clips_and_their_files(report, monkeypatch, tmp_path):
    clips = tmp_path / "clips.csv"
    clips.write_text("image,caption\nv.mp4,a dog runs\nw.mp4,a cat sits\n", encoding="utf-8")
    (tmp_path / "split.tsv").write_text("v.mp4\ttest\nw.mp4\ttrain\n", encoding="utf-8")
    asked = []

    def split_features(cache_dir, encoder, keys, root, weights, show_progress, frames, source, what):
        asked.append((frames, what))
        return keys, np.zeros((len(keys), 1), np.float32), 0

    monkeypatch.setattr(scoring, "split_features", split_features)
    search = SimpleNamespace(best=lambda features: ["a dog runs"] * len(features))
    model = SimpleNamespace(frames=8, directory="runs/c", encoder=RANDOM, training={},
                            feature_dtype="float16", takes="clips of 8 frames")
    result = evaluate(model, load_captions(str(clips)), "test", str(tmp_path / "Clips"), "CACHE", meteor=False,
                      captioner=search)
    assert asked == [(8, "clips")] and result.frames == 8
    assert result.items[0]["path"] == str(tmp_path / "Clips" / "v.mp4")


def test_coco_results_use_the_caption_files_own_image_ids(monkeypatch, tmp_path):
    import json

    coco = {"images": [{"id": 5, "file_name": "a.jpg"}, {"id": 6, "file_name": "b.jpg"}],
            "annotations": [{"image_id": 5, "caption": "a dog runs"}, {"image_id": 6, "caption": "a cat sits"}]}
    (tmp_path / "captions.json").write_text(json.dumps(coco), encoding="utf-8")
    captions = load_captions(str(tmp_path / "captions.json"))
    monkeypatch.setattr(scoring, "split_features", lambda cache, enc, keys, *rest: (
        keys, np.zeros((len(keys), 1), np.float32), 0))
    search = SimpleNamespace(best=lambda features: ["a dog runs"] * len(features))
    bundle = SimpleNamespace(frames=0, directory="m", encoder=RANDOM, training={},
                             feature_dtype="float16")
    result = evaluate(bundle, captions, None, str(tmp_path), "CACHE", meteor=False, show_progress=False,
                      captioner=search)
    assert result.coco_results() == [{"image_id": 5, "caption": "a dog runs"}, {"image_id": 6, "caption": "a dog runs"}]


def test_a_clip_named_by_its_id_is_found_with_its_extension(monkeypatch, tmp_path):
    clips = tmp_path / "video_corpus.csv"  # MSVD: clips are named by id, VideoID_Start_End, without extension
    clips.write_text("VideoID,Start,End,WorkerID,Source,AnnotationTime,Language,Description\n"
                     "v,1,2,0,clean,1,English,a dog runs\nw,3,4,0,clean,1,English,a cat sits\n", encoding="utf-8")
    (tmp_path / "split.tsv").write_text("v_1_2\ttest\nw_3_4\ttrain\n", encoding="utf-8")
    (tmp_path / "Clips").mkdir()
    (tmp_path / "Clips" / "v_1_2.mp4").write_bytes(b"")
    monkeypatch.setattr(scoring, "split_features", lambda cache, enc, keys, *rest: (
        keys, np.zeros((len(keys), 1), np.float32), 0))
    model = SimpleNamespace(frames=8, directory="runs/c", encoder=RANDOM, training={},
                            feature_dtype="float16", takes="clips of 8 frames")
    result = evaluate(model, load_captions(str(clips)), "test", str(tmp_path / "Clips"), "CACHE", meteor=False,
                      captioner=SimpleNamespace(best=lambda f: ["a dog runs"] * len(f)))
    assert result.items[0]["input"] == "v_1_2" and result.items[0]["path"] == str(tmp_path / "Clips" / "v_1_2.mp4")


def test_a_clip_file_given_to_an_image_model_says_what_to_train(report, tmp_path):
    clip_file = tmp_path / "clips2.csv"
    clip_file.write_text("image,caption\nv.mp4,a dog runs\n", encoding="utf-8")
    with pytest.raises(UsageError) as error:
        check_kind(report.bundle, load_captions(str(clip_file)))
    assert str(error.value) == (f"{clip_file}: names video clips; the model runs/m describes images "
                                "(train a clip model on this file)")
