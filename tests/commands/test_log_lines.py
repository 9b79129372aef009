"""The library logs to the `captioner` logger and adds no handler; the commands show its lines on stderr as they
printed them before (the message alone, once each), and `-v` adds the debug lines."""

import logging
import os
import subprocess
import sys

import pytest

from captioner.commands.log_lines import show_log, stop_showing_log
from captioner.features.notices import note_if_random, skipped

RELEASE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "earlier_release")
IMAGE = os.path.join(RELEASE, "images", "shapes_00036.jpg")
NOTE = "note: encoder uses RANDOM weights (seed=0 he-uniform-numpy-v1, tiny VGG16)"


def test_a_command_shows_each_line_once_as_its_message_however_often_it_runs(run_cli):
    for _ in range(2):  # a second command in the same process: still one handler, one line each
        code, out, err = run_cli("caption", "--model", os.path.join(RELEASE, "model"), IMAGE, "--beam-size", "1")
        assert code == 0 and out.startswith(IMAGE + "\t")
        assert err.count(NOTE) == 1 and err.startswith("note: ") and "debug" not in err
    code, _, err = run_cli("caption", "--model", os.path.join(RELEASE, "model"), IMAGE, "-v")
    lines = err.splitlines()
    assert code == 0 and lines[0].startswith("debug captioner.api.loading: ") and "a caption model" in lines[0]
    assert any(" loaded in " in line and line.startswith("debug captioner.api.loading: ") for line in lines)
    assert sum(line.startswith(NOTE) for line in lines) == 1


@pytest.mark.backend_independent
def test_the_library_logs_records_and_adds_no_handler(caplog):
    caplog.set_level(logging.INFO)
    from captioner.features.encoder import fingerprint

    skipped("a/b.jpg", "not an image")
    note_if_random(fingerprint("random-tiny", 2))
    note_if_random(fingerprint("imagenet"))  # says nothing
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("captioner.features.notices", "WARNING", "skipped a/b.jpg: not an image"),
        ("captioner.features.notices", "WARNING", "note: encoder uses RANDOM weights (seed=2 he-uniform-numpy-v1, "
                                                  "tiny VGG16) - not ImageNet; captions will be poor on real photos")]
    code = ("import logging, captioner.features.notices, captioner.training.checkpoints, captioner.api.loading; "
            "print([n for n in logging.root.manager.loggerDict if n.startswith('captioner') and "
            "logging.getLogger(n).handlers])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


@pytest.mark.backend_independent
def test_shown_by_a_command_a_line_is_not_shown_again_by_the_programs_own_handler(capsys, caplog):
    caplog.set_level(logging.INFO)  # the program's root logger takes INFO
    seen = []
    root_handler = logging.Handler()
    root_handler.emit = seen.append
    logging.getLogger().addHandler(root_handler)
    try:
        logging.getLogger("captioner.training.train").info("before: the program's handler has it")
        show_log()
        logging.getLogger("captioner.training.train").info("vocabulary: 12 words")
        logging.getLogger("captioner.training.train").debug("not without -v")
        show_log(verbose=1)
        logging.getLogger("captioner.api.loading").debug("loaded in 0.10 s")
        stop_showing_log()
        logging.getLogger("captioner.training.train").warning("after: the program's handler again")
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert capsys.readouterr().err == "vocabulary: 12 words\ndebug captioner.api.loading: loaded in 0.10 s\n"
    assert [r.getMessage() for r in seen] == ["before: the program's handler has it",
                                              "after: the program's handler again"]


@pytest.mark.backend_independent
def test_lines_go_to_the_stderr_of_the_moment_they_are_logged(monkeypatch):
    import io

    show_log()
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)  # redirected after the command set its log up
    logging.getLogger("captioner.features.notices").warning("skipped x.jpg: empty file")
    assert later.getvalue() == "skipped x.jpg: empty file\n"
