"""Folders used in the wrong role are refused at the door with the flag that fits: a feature cache given as a
model, a model bundle given as a cache, one folder for both --out and --cache, a folder given to `caption`."""

import os

import pytest


def test_a_cache_given_as_the_model_is_named_as_a_cache(trained, synthetic, run_cli):
    code, _, err = run_cli("caption", "--model", trained / "cache", synthetic / "Images" / "shapes_00000.jpg")
    assert code == 2
    assert err.strip() == (f"error: {trained / 'cache'}: a feature cache, not a model bundle (it holds cache.json): "
                           "give it as --cache, and the folder train wrote as --model")


def test_a_model_given_as_the_cache_is_refused_before_anything_is_written_into_it(trained, synthetic, run_cli):
    before = sorted(os.listdir(trained / "model"))
    code, _, err = run_cli("evaluate", "--model", trained / "model", "--captions", synthetic / "captions.token.txt",
                           "--images", synthetic / "Images", "--cache", trained / "model", "--no-meteor")
    assert code == 2
    assert err.strip() == (f"error: {trained / 'model'}: a model bundle, not a feature cache (it holds config.json or "
                           "checkpoints/): give it as --model, and a folder of its own as --cache")
    assert sorted(os.listdir(trained / "model")) == before  # no cache.json, shards/ or lock left in the bundle


def test_one_folder_for_the_model_and_the_cache_is_refused(synthetic, run_cli, tmp_path):
    code, _, err = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", tmp_path / "x", "--out", tmp_path / "x" / ".", "--weights", "random-tiny")
    assert code == 2
    assert "--out and --cache are the same folder; a model bundle and a feature cache need a folder each" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.backend_independent
def test_caption_of_a_folder_points_at_caption_folder(synthetic, run_cli):
    code, out, err = run_cli("caption", "--model", "runs/m", synthetic / "Images")
    assert code == 2 and out == ""
    assert err.strip() == (f"error: {synthetic / 'Images'}: is a folder; caption-folder captions a whole folder: "
                           f"captioner caption-folder --model runs/m {synthetic / 'Images'} --out captions.jsonl")


def test_a_wrong_images_folder_stops_at_once_with_one_line_and_leaves_no_cache(synthetic, run_cli, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    code, _, err = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", tmp_path / "elsewhere",
                           "--cache", tmp_path / "cache", "--out", tmp_path / "model", "--weights", "random-tiny")
    assert code == 2
    assert err.strip() == (f"error: {tmp_path / 'elsewhere'}: none of the first 18 images the caption file names is "
                           "there (such as 'shapes_00000.jpg'); check --images")
    assert not (tmp_path / "cache").exists() and not (tmp_path / "model").exists()
