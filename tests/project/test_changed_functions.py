"""scripts/changed_functions.py: which functions' mutation verdicts from an earlier commit no longer stand."""

import subprocess
import sys

import pytest

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "scripts"))
import changed_functions  # noqa: E402

pytestmark = pytest.mark.backend_independent  # source text and git

BEFORE = '''\
def kept(x):
    return x + 1


def edited(x):
    return x * 2


class Box:
    def size(self):
        return 1

    @property
    def same(self):
        return 0
'''

AFTER = '''\
import os


def kept(x):
    return x + 1


def edited(x):
    return x * 3


def added():
    return os.sep


class Box:
    def size(self):
        return 2

    @staticmethod
    def same(self):
        return 0
'''


def git(folder, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=folder, check=True,
                   capture_output=True)


def test_changed_added_and_method_bodies_are_named_as_mutmut_names_them(tmp_path, monkeypatch, capsys):
    """Moved lines, a new import and a changed decorator leave a function's verdicts standing; a changed body,
    a new function and a changed method do not. A file the commit did not have: every function."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(BEFORE)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "before")
    (tmp_path / "pkg" / "mod.py").write_text(AFTER)
    (tmp_path / "pkg" / "new.py").write_text("def fresh():\n    return 1\n")
    monkeypatch.chdir(tmp_path)
    assert changed_functions.main(["HEAD", "pkg/mod.py", "pkg/new.py"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "pkg.mod.x_edited__mutmut_*", "pkg.mod.x_added__mutmut_*", "pkg.mod.xǁBoxǁsize__mutmut_*",
        "pkg.new.x_fresh__mutmut_*"]
    assert changed_functions.main(["HEAD"]) == 2 and "usage" in capsys.readouterr().err
