"""The on-disk feature cache: crash-safe, resumable, memory-mapped, tied to one encoder.

Layout of a cache directory:
    cache.json               format, version, dtype, dim and the encoder fingerprint
    shards/000042.npy        (n, dim) features of one committed batch, float16 or float32
    shards/000042.keys.json  the n image keys of that batch, in row order; written last, so it is the commit
    lock                     held (flock) by the one process allowed to write

A process killed at any moment leaves at most an uncommitted .npy (no keys file), which is ignored and
removed by the next writer. `compact()` merges shards into one file, also crash-safely.

Frames kept as pixels for a model with its own CNN (`features.pixels`) are a cache of the same kind, uint8
rows, in a subfolder of the --cache directory chosen by their fingerprint (`open` goes there by itself).
"""

from __future__ import annotations

import fcntl
import glob
import json
import os

import numpy as np

from captioner.base.atomic import atomic_path, write_json
from captioner.base.errors import CaptionerError, UsageError
from captioner.base.jsonfile import read_versioned
from captioner.features.encoder_spec import EncoderSpec, SpecError, spec_from_json
from captioner.features.pixels import cache_directory

FORMAT = "captioner.features"
VERSION = 1
DTYPES = ("float16", "float32", "uint8")  # uint8: frames as pixels


class CacheError(UsageError):
    """A cache that cannot be used as asked; the message names the directory."""


class FeatureCache:
    """Open with `FeatureCache.open`; read with `keys`, `__contains__`, `get`; write with `append`."""

    def __init__(self, directory: str, meta: dict, fingerprint: EncoderSpec, writable: bool):
        self.directory = directory
        self.fingerprint = fingerprint  # the encoder its rows came from
        self.dtype = np.dtype(meta["dtype"])
        self.dim = int(meta["dim"])
        self.writable = writable
        self._lock_file = None
        self._shards: list[tuple[str, np.ndarray]] = []  # (keys path, memmap)
        self._index: dict[str, tuple[int, int]] = {}  # key -> (shard number, row)
        if writable:
            self._lock()
            self._remove_uncommitted()
        self._load_index()

    # --- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, directory: str, fingerprint: EncoderSpec | None = None, dtype: str | None = None,
             writable: bool = False) -> "FeatureCache":
        """Open (and with `writable`, create) a cache; refuse one made by another encoder."""
        directory = cache_directory(directory, fingerprint)
        meta_path = os.path.join(directory, "cache.json")
        if os.path.exists(meta_path):
            meta, have = _read_meta(meta_path)
            if fingerprint is not None and have != fingerprint:
                raise CacheError(f"{directory}: this cache was made by a different encoder "
                                 f"({have.difference(fingerprint)}); "
                                 "use a new --cache directory or the matching --weights / --precision")
            if dtype is not None and dtype != meta["dtype"]:
                raise CacheError(f"{directory}: cache holds {meta['dtype']} features, {dtype} was requested; "
                                 "use a new --cache directory or --dtype " + meta["dtype"])
            return cls(directory, meta, have, writable)
        if os.path.exists(os.path.join(directory, "config.json")) or os.path.isdir(os.path.join(directory, "checkpoints")):
            raise CacheError(f"{directory}: a model bundle, not a feature cache (it holds config.json or checkpoints/): "
                             "give it as --model, and a folder of its own as --cache")
        if not writable:
            raise CacheError(f"{directory}: not a feature cache (no cache.json); create it with 'extract'")
        if fingerprint is None:
            raise CacheError(f"{directory}: a new cache needs an encoder fingerprint")
        dtype = dtype or ("uint8" if fingerprint.is_pixels else "float16")
        if dtype not in DTYPES or (dtype == "uint8") != fingerprint.is_pixels:
            raise CacheError(f"{directory}: dtype must be one of {DTYPES[:2]} (uint8 holds frames as pixels only)")
        os.makedirs(os.path.join(directory, "shards"), exist_ok=True)
        meta = {"format": FORMAT, "version": VERSION, "dtype": dtype, "dim": fingerprint.dim,
                "fingerprint": fingerprint.to_json()}
        write_json(meta_path, meta)
        return cls(directory, meta, fingerprint, writable)

    def _lock(self) -> None:
        path = os.path.join(self.directory, "lock")
        self._lock_file = open(path, "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "another process"
            self._lock_file.close()
            self._lock_file = None
            raise CacheError(f"{self.directory}: cache is in use by another writer (pid {holder}); "
                             "wait for it to finish or use another --cache") from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(str(os.getpid()))
        self._lock_file.flush()

    def close(self) -> None:
        self._shards = []
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- reading ----------------------------------------------------------------------------

    def _shard_paths(self) -> list[str]:
        return sorted(glob.glob(os.path.join(self.directory, "shards", "*.keys.json")))

    def _remove_uncommitted(self) -> None:
        committed = {p[: -len(".keys.json")] for p in self._shard_paths()}
        for npy in glob.glob(os.path.join(self.directory, "shards", "*.npy")):
            if npy[: -len(".npy")] not in committed:
                os.unlink(npy)
        for tmp in glob.glob(os.path.join(self.directory, "shards", ".*.tmp*")):
            os.unlink(tmp)

    def _load_index(self) -> None:
        self._shards, self._index = [], {}
        for keys_path in self._shard_paths():
            stem = keys_path[: -len(".keys.json")]
            try:
                with open(keys_path, encoding="utf-8") as f:
                    keys = json.load(f)
                rows = np.load(stem + ".npy", mmap_mode="r")
            except (OSError, ValueError) as exc:
                raise CacheError(f"{keys_path}: damaged cache shard ({exc})") from None
            if rows.dtype != self.dtype or rows.ndim != 2 or rows.shape != (len(keys), self.dim):
                raise CacheError(f"{stem}.npy: shard has shape {rows.shape} {rows.dtype}, expected "
                                 f"({len(keys)}, {self.dim}) {self.dtype}")
            number = len(self._shards)
            self._shards.append((keys_path, rows))
            for row, key in enumerate(keys):
                self._index[key] = (number, row)  # a later shard wins (compaction writes duplicates first)

    def __len__(self) -> int:
        return len(self._index)

    @property
    def shard_count(self) -> int:
        return len(self._shards)

    def __contains__(self, key: str) -> bool:
        return key in self._index

    def keys(self) -> list[str]:
        return sorted(self._index)

    def get(self, keys: list[str]) -> np.ndarray:
        """(len(keys), dim) array in the cache's dtype."""
        out = np.empty((len(keys), self.dim), dtype=self.dtype)
        for i, key in enumerate(keys):
            try:
                shard, row = self._index[key]
            except KeyError:
                raise CacheError(f"{self.directory}: no features for {key!r}") from None
            out[i] = self._shards[shard][1][row]
        return out

    def matrix(self, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(memmap, rows) such that memmap[rows[i]] are the features of keys[i], without copying.

        Compacts first if the keys span several shards (needs a writable cache then).
        """
        shards = {self._index[k][0] for k in keys if k in self._index}
        missing = [k for k in keys if k not in self._index]
        if missing:
            raise CacheError(f"{self.directory}: no features for {len(missing)} image(s), e.g. {missing[0]!r}")
        if len(shards) > 1:
            if not self.writable:
                raise CacheError(f"{self.directory}: cache has {len(self._shards)} shards; run extract to compact it")
            self.compact()
        if not keys:
            return np.empty((0, self.dim), self.dtype), np.empty((0,), np.int64)
        shard = self._index[keys[0]][0]
        return self._shards[shard][1], np.asarray([self._index[k][1] for k in keys], dtype=np.int64)

    # --- writing ----------------------------------------------------------------------------

    def _next_stem(self) -> str:
        numbers = [int(os.path.basename(p).split(".")[0]) for p in self._shard_paths()]
        return os.path.join(self.directory, "shards", f"{max(numbers, default=-1) + 1:06d}")

    def append(self, keys: list[str], features: np.ndarray) -> None:
        """Commit one batch: features first, then the keys file that makes them visible."""
        if not self.writable:
            raise CaptionerError(f"{self.directory}: cache opened read-only")
        features = np.asarray(features)
        if features.shape != (len(keys), self.dim):
            raise ValueError(f"features {features.shape} do not match {len(keys)} keys x {self.dim}")
        if not np.isfinite(features).all():
            raise ValueError("refusing to cache non-finite features")
        stem = self._next_stem()
        with atomic_path(stem + ".npy", suffix=".npy") as tmp:
            np.save(tmp, features.astype(self.dtype))
        write_json(stem + ".keys.json", list(keys))
        number = len(self._shards)
        self._shards.append((stem + ".keys.json", np.load(stem + ".npy", mmap_mode="r")))
        for row, key in enumerate(keys):
            self._index[key] = (number, row)

    def compact(self) -> None:
        """Merge all shards into one (streamed, bounded memory). Safe to kill at any point."""
        if len(self._shards) <= 1:
            return
        keys = sorted(self._index)
        stem = self._next_stem()
        with atomic_path(stem + ".npy", suffix=".npy") as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=self.dtype, shape=(len(keys), self.dim))
            for start in range(0, len(keys), 4096):
                chunk = keys[start:start + 4096]
                out[start:start + len(chunk)] = self.get(chunk)
            out.flush()
            del out
        write_json(stem + ".keys.json", keys)  # from here the new shard holds everything
        for keys_path, _ in self._shards:
            os.unlink(keys_path)  # uncommit first, then drop the data
            os.unlink(keys_path[: -len(".keys.json")] + ".npy")
        self._load_index()

    def export(self, path: str) -> int:
        """Write `keys` (sorted) and `features` (same order) to an .npz; returns the number of entries."""
        keys = self.keys()
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, keys=np.asarray(keys, dtype=str), features=self.get(keys))
        return len(keys)


def _read_meta(path: str) -> tuple[dict, EncoderSpec]:
    meta = read_versioned(path, FORMAT, VERSION, CacheError, "feature cache")
    if meta.get("dtype") not in DTYPES or not isinstance(meta.get("dim"), int) or "fingerprint" not in meta:
        raise CacheError(f"{path}: cache metadata lacks dtype, dim or fingerprint")
    try:
        return meta, spec_from_json(meta["fingerprint"])
    except SpecError as exc:
        raise CacheError(f"{path}: {exc}") from None
