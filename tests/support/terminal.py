"""What Keras prints for a training run, on a terminal or off one."""

import io
import re


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as Keras asks before drawing its progress bar."""

    def isatty(self):
        return True


def keras_bar(text: str):
    """Keras' progress bar in `text` ("5/5 ━━━━", coloured on a terminal), or None."""
    return re.search("[0-9]/[0-9]+ \u2501", re.sub("\x1b\\[[0-9;]*m", "", text))
