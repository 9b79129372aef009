"""The feature cache's refusals, each in full (another encoder, a dtype, a second writer, damaged shards and
metadata, a model bundle's folder), and its odd folders (half made, leftovers, pixel subfolders, old fingerprints).
The reads, writes and compaction are in test_features.py."""

import numpy as np
import pytest

from captioner.features.cache import CacheError, FeatureCache
from captioner.features.encoder import fingerprint

pytestmark = pytest.mark.backend_independent  # the cache is numpy and files: no Keras

FP = fingerprint("random", 0)


def rows(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 4096)).astype(np.float32)

def test_each_refusal_of_a_cache_says_what_is_wrong_in_full(tmp_path):
    d = str(tmp_path / "c")
    FeatureCache.open(d, FP, writable=True).close()
    other = fingerprint("random", 1)
    with pytest.raises(CacheError) as error:
        FeatureCache.open(d, other)
    assert str(error.value) == (f"{d}: this cache was made by a different encoder ("
                                f"weights_id: cache has {FP.weights_id!r}, requested {other.weights_id!r}); "
                                "use a new --cache directory or the matching --weights / --precision")
    with pytest.raises(CacheError) as error:
        FeatureCache.open(d, FP, "float32")
    assert str(error.value) == (f"{d}: cache holds float16 features, float32 was requested; "
                                "use a new --cache directory or --dtype float16")
    with pytest.raises(CacheError) as error:
        FeatureCache.open(str(tmp_path / "new"), writable=True)
    assert str(error.value) == f"{tmp_path / 'new'}: a new cache needs an encoder fingerprint"
    with pytest.raises(CacheError) as error:
        FeatureCache.open(str(tmp_path / "pixels-not"), FP, "uint8", writable=True)
    assert str(error.value) == (f"{tmp_path / 'pixels-not'}: dtype must be one of ('float16', 'float32') "
                                "(uint8 holds frames as pixels only)")
    with pytest.raises(CacheError) as error:
        FeatureCache.open(str(tmp_path / "ints"), FP, "int8", writable=True)
    assert str(error.value).endswith("dtype must be one of ('float16', 'float32') (uint8 holds frames as pixels only)")


def test_a_second_writer_is_refused_naming_the_first_ones_pid(tmp_path):
    import os

    d = str(tmp_path / "c")
    with FeatureCache.open(d, FP, writable=True):
        with pytest.raises(CacheError) as error:
            FeatureCache.open(d, FP, writable=True)
        assert str(error.value) == (f"{d}: cache is in use by another writer (pid {os.getpid()}); "
                                    "wait for it to finish or use another --cache")
        assert (tmp_path / "c" / "lock").read_text() == str(os.getpid())
    with FeatureCache.open(d, FP, writable=True) as again:  # released on close
        again.close()
        again.close()  # a second close releases nothing twice


def test_a_cache_folder_left_half_made_is_opened_and_leftover_temporary_files_removed(tmp_path):
    d = tmp_path / "c"
    (d / "shards").mkdir(parents=True)  # a run killed after making the folder, before cache.json
    with FeatureCache.open(str(d), FP, writable=True) as cache:
        cache.append(["x.jpg"], rows(1))
    (d / "shards" / ".000001.npy.abc.tmp.npy").write_bytes(b"half a shard")
    FeatureCache.open(str(d), FP, writable=True).close()
    assert sorted(p.name for p in (d / "shards").iterdir()) == ["000000.keys.json", "000000.npy"]


def test_damaged_shards_and_metadata_are_named_with_what_is_wrong(tmp_path):
    import json

    d = tmp_path / "c"
    with FeatureCache.open(str(d), FP, writable=True) as cache:
        cache.append(["x.jpg"], rows(1))
    np.save(d / "shards" / "000000.npy", rows(1).astype(np.float32))  # the right shape, the wrong dtype
    with pytest.raises(CacheError) as error:
        FeatureCache.open(str(d))
    assert str(error.value) == (f"{d / 'shards' / '000000'}.npy: shard has shape (1, 4096) float32, expected "
                                "(1, 4096) float16")
    (d / "shards" / "000000.keys.json").write_text("[not json")
    with pytest.raises(CacheError, match=r"000000.keys.json: damaged cache shard \("):
        FeatureCache.open(str(d))
    meta = json.loads((d / "cache.json").read_text())
    for broken in ({**meta, "dtype": "int8"}, {k: v for k, v in meta.items() if k != "fingerprint"}):
        (d / "cache.json").write_text(json.dumps(broken))
        with pytest.raises(CacheError) as error:
            FeatureCache.open(str(d))
        assert str(error.value) == f"{d / 'cache.json'}: cache metadata lacks dtype, dim or fingerprint"
    (d / "cache.json").write_text(json.dumps({**meta, "fingerprint": "vgg16"}))  # there, but not a fingerprint
    with pytest.raises(CacheError) as error:
        FeatureCache.open(str(d))
    assert str(error.value) == f"{d / 'cache.json'}: encoder fingerprint is str, not an object"
    (d / "cache.json").write_text(json.dumps({**meta, "format": "something.else"}))
    with pytest.raises(CacheError) as error:
        FeatureCache.open(str(d))
    assert str(error.value) == f"{d / 'cache.json'}: not a captioner feature cache"


def test_reads_are_in_the_caches_dtype_from_memory_maps_and_writes_are_checked(tmp_path):
    d = str(tmp_path / "c")
    with FeatureCache.open(d, FP, writable=True) as cache:
        cache.append(["x.jpg"], rows(1))
        assert isinstance(cache._shards[-1][1], np.memmap)  # memory does not grow with the cache
        assert cache.get(["x.jpg"]).dtype == np.float16
        with pytest.raises(ValueError, match=r"^features \(2, 4096\) do not match 1 keys x 4096$"):
            cache.append(["y.jpg"], rows(2))
        with pytest.raises(ValueError, match="^refusing to cache non-finite features$"):
            cache.append(["y.jpg"], np.full((1, 4096), np.nan, np.float32))
        with pytest.raises(CacheError) as error:
            cache.get(["nope.jpg"])
        assert str(error.value) == f"{d}: no features for 'nope.jpg'"
    with pytest.raises(Exception) as error:
        FeatureCache.open(d).append(["y.jpg"], rows(1))
    assert str(error.value) == f"{d}: cache opened read-only"


def test_a_pixel_cache_holds_uint8_by_default(tmp_path):
    from captioner.features.pixels import pixel_fingerprint

    with FeatureCache.open(str(tmp_path / "p"), pixel_fingerprint(8), writable=True) as cache:
        assert cache.dtype == np.uint8 and cache.dim == 8 * 8 * 3


def test_a_folder_with_a_bundles_config_or_checkpoints_alone_is_refused_as_a_cache(tmp_path):
    for marker in ("config.json", "checkpoints"):
        folder = tmp_path / marker.split(".")[0]
        folder.mkdir()
        (folder / marker).mkdir() if marker == "checkpoints" else (folder / marker).write_text("{}")
        with pytest.raises(CacheError) as error:
            FeatureCache.open(str(folder), FP, writable=True)
        assert str(error.value) == (f"{folder}: a model bundle, not a feature cache (it holds config.json or "
                                    "checkpoints/): give it as --model, and a folder of its own as --cache")
        assert sorted(p.name for p in folder.iterdir()) == [marker]  # nothing written into it


def test_a_new_cache_has_its_shards_folder_and_a_pixel_cache_its_own_subfolder(tmp_path):
    from captioner.features.pixels import pixel_fingerprint

    with FeatureCache.open(str(tmp_path / "c"), FP, writable=True):
        assert (tmp_path / "c" / "shards").is_dir()
    with FeatureCache.open(str(tmp_path / "c"), pixel_fingerprint(8), writable=True) as pixels:
        assert pixels.directory == str(tmp_path / "c" / "pixels-8x8")


def test_a_lock_held_by_a_writer_that_wrote_no_pid_is_named_another_process(tmp_path):
    import fcntl

    d = str(tmp_path / "c")
    FeatureCache.open(d, FP, writable=True).close()
    (tmp_path / "c" / "lock").write_text("")
    with open(tmp_path / "c" / "lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(CacheError, match=r"in use by another writer \(pid another process\); wait"):
            FeatureCache.open(d, FP, writable=True)


def test_a_cache_written_before_a_fingerprint_field_existed_reads_with_its_default(tmp_path):
    import json

    d = tmp_path / "c"
    FeatureCache.open(str(d), FP, writable=True).close()
    meta = json.loads((d / "cache.json").read_text())
    del meta["fingerprint"]["precision"]  # caches written before --precision
    (d / "cache.json").write_text(json.dumps(meta))
    assert FeatureCache.open(str(d)).fingerprint.precision == "fp32"
