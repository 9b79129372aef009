"""`python -m captioner COMMAND ...`: one subcommand per module in captioner.commands.

Exit statuses: 0 all went well, 1 some inputs were skipped (each named), 2 usage or input-file error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from captioner.base.errors import CaptionerError

COMMANDS = ["extract", "cache", "train", "caption", "caption_folder", "evaluate", "classify", "export", "serve", "demo"]

# What a Ctrl-C leaves, said where a command can be continued
INTERRUPTED = {
    "train": "interrupted: checkpoints are kept; the same command with --resume continues from the last finished epoch",
    "extract": "interrupted: what was extracted is kept; the same command continues where it stopped",
    "caption-folder": "interrupted: the earlier output is intact; the same command with --resume continues",
}

# What the [keras] extra installs: a command that needs one of them, in an install without, says so in one line
TOOLKIT_MODULES = {"keras", "tensorflow", "jax", "keras_nlp", "keras_hub", "nltk", "pycocoevalcap", "h5py", "tf2onnx"}

EPILOG = "exit status: 0 all went well, 1 some files were skipped (each is named), 2 usage or input error"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="captioner", description="CNN-LSTM image captioning (VGG16 fc2 + LSTM).",
                                     epilog=EPILOG)
    from captioner import __version__

    parser.add_argument("--version", action="version", version=f"captioner {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"captioner.commands.{name}")
        cmd = sub.add_parser(name.replace("_", "-"), help=module.HELP, description=module.__doc__,
                             epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(cmd)
        cmd.add_argument("-v", "--verbose", action="count", default=0,
                         help="also the debug lines (timings, what was loaded from where)")
        cmd.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # a bare `captioner`: what it can do, not only "required: COMMAND"
        print(build_parser().format_help(), end="")
        return 2
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    from captioner.commands.log_lines import show_log

    show_log(args.verbose)
    try:
        return int(args.run(args) or 0)
    except CaptionerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # an install with the runtime only ([onnx], [litert]) running the toolkit
        root = (exc.name or "").split(".")[0]
        if root not in TOOLKIT_MODULES:
            raise
        print(f"error: `captioner {args.command}` needs the toolkit ({root} is not installed): pip install "
              "'captioner[keras]'; an exported model (.onnx, .tflite) is captioned without it", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(INTERRUPTED.get(args.command, "interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout piped into something that stopped reading (`| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
