"""Errors that reach the user as one line (never a traceback)."""


class CaptionerError(Exception):
    """A problem with the user's input or files; the message names the file and what is wrong."""


class UsageError(CaptionerError):
    """Bad command-line usage or input files: exit status 2."""


class InputError(CaptionerError):
    """An input of a kind the Python API does not take (a programming error, raised before any work)."""
