"""Word <-> id mapping with fixed special tokens, saved as versioned JSON."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from typing import Iterable, Sequence

from vocab.normalise import tokenize

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = (PAD, START, END, UNK)  # ids 0, 1, 2, 3 in every vocabulary
FORMAT = "captioner.vocabulary"
VERSION = 1


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used; the message names the file."""


class Vocabulary:
    """Tokens in id order; the first four are always SPECIALS."""

    def __init__(self, tokens: Sequence[str], min_count: int = 1):
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise VocabularyError(f"vocabulary must start with {SPECIALS}")
        if len(set(tokens)) != len(tokens):
            raise VocabularyError("vocabulary has duplicate tokens")
        self.tokens = list(tokens)
        self.min_count = min_count
        self._ids = {tok: i for i, tok in enumerate(self.tokens)}

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 1) -> "Vocabulary":
        """Words seen at least `min_count` times, most frequent first (ties alphabetical)."""
        counts: Counter[str] = Counter()
        for caption in captions:
            counts.update(tokenize(caption))
        words = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        return cls(list(SPECIALS) + words, min_count=min_count)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, word: str) -> bool:
        return word in self._ids

    def id(self, word: str) -> int:
        return self._ids.get(word, self.unk_id)

    def encode(self, caption: str, max_length: int | None = None) -> list[int]:
        """`<start> w1 .. wn <end>`; `max_length` caps the words (specials not counted)."""
        words = tokenize(caption)
        if max_length is not None:
            words = words[:max_length]
        return [self.start_id] + [self.id(w) for w in words] + [self.end_id]

    def decode(self, ids: Iterable[int]) -> str:
        """Words up to the first `<end>`; special tokens are dropped."""
        words = []
        for i in ids:
            i = int(i)
            if i == self.end_id:
                break
            if i < len(SPECIALS) or i >= len(self.tokens):
                continue
            words.append(self.tokens[i])
        return " ".join(words)

    # --- persistence -------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "min_count": self.min_count, "tokens": self.tokens}

    @classmethod
    def from_json(cls, data: dict, source: str = "<vocabulary>") -> "Vocabulary":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise VocabularyError(f"{source}: not a captioner vocabulary (format is not {FORMAT!r})")
        if data.get("version") != VERSION:
            raise VocabularyError(f"{source}: vocabulary version {data.get('version')!r}, expected {VERSION}")
        tokens = data.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise VocabularyError(f"{source}: 'tokens' must be a list of strings")
        try:
            return cls(tokens, min_count=int(data.get("min_count", 1)))
        except VocabularyError as exc:
            raise VocabularyError(f"{source}: {exc}") from None

    def save(self, path: str) -> None:
        """Atomic: a reader sees the old file or the new one, never half of one."""
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".vocab-", suffix=".tmp", dir=directory)
        mask = os.umask(0)  # reading the umask means setting it; put it straight back
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600: others could not read a shared model's vocabulary
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.to_json(), f, ensure_ascii=False, indent=0)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str) -> "Vocabulary":
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except OSError as exc:
            raise VocabularyError(f"{path}: cannot read vocabulary ({exc.strerror})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise VocabularyError(f"{path}: not valid JSON ({exc})") from None
        return cls.from_json(data, source=path)
