"""Files the project writes are readable by others as the umask allows (a bundle shared with a colleague or a
container user must load): with umask 022 every file of a bundle, its checkpoints, a feature cache, the outputs
and the report pages is 0644; with 077 a vocabulary is 0600 (the umask is respected, not overridden)."""

import os
import stat

import pytest

from vocab import Vocabulary


@pytest.fixture
def umask():
    saved = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


def modes(folder) -> dict[str, str]:
    return {os.path.relpath(os.path.join(root, name), folder): oct(stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode))
            for root, _, names in os.walk(folder) for name in names}


@pytest.mark.backend_independent
def test_a_saved_vocabulary_has_the_permissions_the_umask_gives(tmp_path, umask):
    vocab = Vocabulary.build(["a dog runs", "a cat sits"])
    vocab.save(str(tmp_path / "vocab.json"))
    umask(0o077)
    vocab.save(str(tmp_path / "private.json"))
    assert modes(tmp_path) == {"vocab.json": "0o644", "private.json": "0o600"}


@pytest.mark.slow  # trains a model, captions a folder, evaluates
@pytest.mark.backend_independent  # file modes, whatever the backend
def test_every_file_of_a_bundle_cache_outputs_and_pages_is_readable_by_others(tmp_path, synthetic, umask, run_cli):
    images, captions = str(synthetic / "Images"), str(synthetic / "captions.token.txt")
    code, _, _ = run_cli("train", "--captions", captions, "--images", images, "--cache", str(tmp_path / "cache"),
                         "--out", str(tmp_path / "model"), "--weights", "random-tiny", "--epochs", "1",
                         "--units", "16", "--embed-dim", "8", "--quiet")
    assert code == 0
    for out in ("out.jsonl", "out.csv", "out.json"):
        code, _, err = run_cli("caption-folder", "--model", str(tmp_path / "model"), images, "--out",
                             str(tmp_path / "outputs" / out), "--html", str(tmp_path / "outputs" / "page.html"),
                             "--quiet")
        assert code == 0, err
    code, _, _ = run_cli("evaluate", "--model", str(tmp_path / "model"), "--captions", captions, "--images", images,
                         "--cache", str(tmp_path / "cache"), "--no-meteor", "--json", str(tmp_path / "outputs" / "e.json"),
                         "--html", str(tmp_path / "outputs" / "report.html"))
    assert code == 0
    found = modes(tmp_path)
    for part in ("model/vocab.json", "model/config.json", "model/decoder.weights.h5", "model/checkpoints/vocab.json",
                 "cache/cache.json", "outputs/out.csv", "outputs/report.html"):
        assert part in found
    assert {name: mode for name, mode in found.items() if mode != "0o644"} == {}


@pytest.mark.backend_independent
def test_an_output_in_a_folder_not_made_yet_gets_its_folder(tmp_path, umask):
    from captioner.base.atomic import write_text

    write_text(str(tmp_path / "new" / "deeper" / "notes.txt"), "hello")
    assert (tmp_path / "new" / "deeper" / "notes.txt").read_text() == "hello"
    assert modes(tmp_path) == {"new/deeper/notes.txt": "0o644"}
