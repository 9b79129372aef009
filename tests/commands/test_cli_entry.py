"""The `captioner` command's front: a bare `captioner` lists what it can do, `--version` says which it is."""

import pytest

import captioner
from captioner.cli import COMMANDS

pytestmark = pytest.mark.backend_independent  # argument parsing only


def test_a_bare_captioner_lists_every_command_with_its_line_and_is_a_usage_error(run_cli):
    code, out, _ = run_cli()
    assert code == 2
    assert out.startswith("usage: captioner [-h] [--version] COMMAND ...")
    for name in COMMANDS:
        assert f"    {name.replace('_', '-')} " in out or f"    {name.replace('_', '-')}\n" in out
    assert "encode images and clips into a feature cache" in out


def test_version_names_the_package_version(capsys):
    from captioner.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"captioner {captioner.__version__}\n"


@pytest.mark.parametrize("command, said", [
    ("train", "interrupted: checkpoints are kept; the same command with --resume continues from the last finished "
              "epoch"),
    ("caption-folder", "interrupted: the earlier output is intact; the same command with --resume continues"),
    ("caption", "interrupted")])
def test_ctrl_c_says_what_is_kept_and_how_to_continue(monkeypatch, capsys, command, said):
    from captioner import cli

    def interrupted(args):
        raise KeyboardInterrupt

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices[command].set_defaults(run=interrupted)
    argv = {"train": ["train", "--captions", "c.txt", "--images", "i", "--cache", "c", "--out", "o"],
            "caption": ["caption", "--model", "m", "x.jpg"],
            "caption-folder": ["caption-folder", "--model", "m", "f", "--out", "o.jsonl"]}[command]
    assert cli.main(argv) == 130
    assert capsys.readouterr().err == said + "\n"
