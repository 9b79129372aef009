import numpy as np
import pytest

from captioner.features.cache import CacheError, FeatureCache
from captioner.features.encoder import fingerprint

pytestmark = pytest.mark.backend_independent  # the cache is numpy and files: no Keras

FP = fingerprint("random", 0)


def rows(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 4096)).astype(np.float32)


def test_round_trip_and_compaction(tmp_path):
    d = str(tmp_path / "c")
    with FeatureCache.open(d, FP, "float32", writable=True) as cache:
        cache.append(["b.jpg", "a.jpg"], rows(2, 0))
        cache.append(["c.jpg"], rows(1, 1))
        cache.compact()
    cache = FeatureCache.open(d, FP)
    assert cache.keys() == ["a.jpg", "b.jpg", "c.jpg"] and len(cache) == 3
    np.testing.assert_array_equal(cache.get(["b.jpg", "c.jpg"]), np.concatenate([rows(2, 0)[:1], rows(1, 1)]))
    matrix, index = cache.matrix(["c.jpg", "a.jpg"])
    np.testing.assert_array_equal(matrix[index], cache.get(["c.jpg", "a.jpg"]))
    assert isinstance(matrix, np.memmap)


def test_float16_and_export(tmp_path):
    d = str(tmp_path / "c")
    with FeatureCache.open(d, FP, writable=True) as cache:
        cache.append(["x.jpg"], rows(1))
    assert FeatureCache.open(d).dtype == np.float16
    n = FeatureCache.open(d).export(str(tmp_path / "out.npz"))
    data = np.load(tmp_path / "out.npz")
    assert n == 1 and list(data["keys"]) == ["x.jpg"] and data["features"].shape == (1, 4096)


def test_uncommitted_shard_from_a_kill_is_ignored_and_removed(tmp_path):
    d = tmp_path / "c"
    with FeatureCache.open(str(d), FP, writable=True) as cache:
        cache.append(["a.jpg"], rows(1))
    np.save(d / "shards" / "000007.npy", rows(3))  # data written, keys never committed
    assert FeatureCache.open(str(d)).keys() == ["a.jpg"]
    FeatureCache.open(str(d), writable=True).close()
    assert not (d / "shards" / "000007.npy").exists()


def test_a_batch_killed_while_its_rows_are_written_is_not_in_the_cache(tmp_path, monkeypatch):
    """The keys file is the commit: written after the rows, so a kill before it leaves the old cache intact."""
    d = str(tmp_path / "c")
    with FeatureCache.open(d, FP, "float32", writable=True) as cache:
        cache.append(["a.jpg"], rows(1, 0))

        def killed_while_writing(*args, **kwargs):
            raise KeyboardInterrupt  # the process dies with the rows half-written

        monkeypatch.setattr(np, "save", killed_while_writing)
        with pytest.raises(KeyboardInterrupt):
            cache.append(["b.jpg"], rows(1, 1))
    monkeypatch.undo()
    reopened = FeatureCache.open(d, FP, writable=True)
    assert reopened.keys() == ["a.jpg"] and "b.jpg" not in reopened
    np.testing.assert_array_equal(reopened.get(["a.jpg"]), rows(1, 0))


def test_other_encoder_and_dtype_are_refused(tmp_path):
    d = str(tmp_path / "c")
    FeatureCache.open(d, FP, "float16", writable=True).close()
    with pytest.raises(CacheError, match="different encoder.*weights_id"):
        FeatureCache.open(d, fingerprint("random", 1))
    with pytest.raises(CacheError, match="holds float16 features, float32 was requested"):
        FeatureCache.open(d, FP, "float32")
    with pytest.raises(CacheError, match="not a feature cache"):
        FeatureCache.open(str(tmp_path / "nothing"))


def test_wrong_shape_shard_is_refused(tmp_path):
    d = tmp_path / "c"
    with FeatureCache.open(str(d), FP, writable=True) as cache:
        cache.append(["a.jpg"], rows(1))
    np.save(d / "shards" / "000000.npy", np.zeros((1, 10), np.float16))
    with pytest.raises(CacheError, match=r"shape \(1, 10\)"):
        FeatureCache.open(str(d))


def test_second_writer_is_locked_out(tmp_path):
    d = str(tmp_path / "c")
    with FeatureCache.open(d, FP, writable=True):
        with pytest.raises(CacheError, match="in use by another writer"):
            FeatureCache.open(d, FP, writable=True)
    FeatureCache.open(d, FP, writable=True).close()  # free again once the first one closed


def test_an_empty_cache_exports_its_keys_as_text(tmp_path):
    """Found by the mutation run: with no keys numpy would make the keys array float64, not text."""
    d = str(tmp_path / "c")
    FeatureCache.open(d, FP, writable=True).close()
    assert FeatureCache.open(d).export(str(tmp_path / "out.npz")) == 0
    data = np.load(tmp_path / "out.npz")
    assert data["keys"].dtype.kind == "U" and data["keys"].shape == (0,) and data["features"].shape == (0, 4096)


# What the mutation run found: FeatureCache.matrix and compact were reached only through training's happy path.
TINY = fingerprint("random-tiny", 0)  # 64-d features keep the many-row cache below small


def two_shard_cache(d, first, second):
    with FeatureCache.open(d, TINY, "float32", writable=True) as cache:
        cache.append([f"a{i:05d}.jpg" for i in range(first)], np.arange(first * 64, dtype=np.float32).reshape(first, 64))
        cache.append([f"b{i:05d}.jpg" for i in range(second)],
                     -np.arange(second * 64, dtype=np.float32).reshape(second, 64) - 1)
    return FeatureCache.open(d)


def test_matrix_gives_the_memmap_and_each_keys_row_in_the_order_asked(tmp_path):
    d = str(tmp_path / "c")
    with FeatureCache.open(d, TINY, "float32", writable=True) as cache:
        cache.append(["x.jpg", "y.jpg", "z.jpg"], np.arange(3 * 64, dtype=np.float32).reshape(3, 64))
    cache = FeatureCache.open(d)
    memmap, rows_of = cache.matrix(["z.jpg", "x.jpg"])
    assert rows_of.dtype == np.int64 and rows_of.tolist() == [2, 0]
    assert np.array_equal(memmap[rows_of], cache.get(["z.jpg", "x.jpg"]))
    one, row = cache.matrix(["y.jpg"])
    assert row.tolist() == [1] and one[1, 0] == 64
    empty, none = cache.matrix([])
    assert empty.shape == (0, 64) and empty.dtype == np.float32 and none.shape == (0,) and none.dtype == np.int64


def test_matrix_names_how_many_keys_are_missing_and_the_first(tmp_path):
    d = str(tmp_path / "c")
    with FeatureCache.open(d, TINY, "float32", writable=True) as cache:
        cache.append(["x.jpg"], np.zeros((1, 64), np.float32))
    with pytest.raises(CacheError) as error:
        FeatureCache.open(d).matrix(["x.jpg", "gone.jpg", "lost.jpg"])
    assert str(error.value) == f"{d}: no features for 2 image(s), e.g. 'gone.jpg'"


def test_keys_in_two_shards_are_refused_read_only_and_compacted_when_writable(tmp_path):
    d = str(tmp_path / "c")
    two_shard_cache(d, 2, 3)
    with pytest.raises(CacheError) as error:
        FeatureCache.open(d).matrix(["a00000.jpg", "b00002.jpg"])
    assert str(error.value) == f"{d}: cache has 2 shards; run extract to compact it"
    with FeatureCache.open(d, writable=True) as cache:
        memmap, rows_of = cache.matrix(["b00002.jpg", "a00001.jpg"])
        assert len(cache._shard_paths()) == 1
        assert memmap[rows_of][:, 0].tolist() == [-129.0, 64.0]


def test_compacting_many_rows_keeps_every_row_and_one_shard_is_left_as_it_is(tmp_path):
    d = str(tmp_path / "c")
    before = two_shard_cache(d, 4090, 10)  # 4,100 rows: more than one chunk of the merge
    expected = before.get(before.keys())
    with FeatureCache.open(d, writable=True) as cache:
        cache.compact()
        assert np.array_equal(cache.get(cache.keys()), expected)
        shards = cache._shard_paths()
        assert len(shards) == 1
        cache.compact()  # one shard already: nothing is rewritten
        assert cache._shard_paths() == shards


def test_a_different_encoder_is_named_field_by_field_with_fields_only_one_side_has():
    from captioner.features.cache import fingerprint_difference

    have, want = {"a": 1, "b": 2, "only_cache": 5}, {"a": 1, "b": 3, "c": 4}
    assert fingerprint_difference(have, want) == \
        "b: cache has 2, requested 3; c: cache has None, requested 4; only_cache: cache has 5, requested None"


def test_a_read_only_cache_gives_its_fingerprint_and_closes_without_a_lock(tmp_path):
    d = str(tmp_path / "c")
    FeatureCache.open(d, FP, writable=True).close()
    cache = FeatureCache.open(d)
    assert cache.fingerprint == FP
    cache.close()
    cache.close()  # twice: nothing held, nothing to release


# What the mutation run found: the cache's one-line errors were checked by a word, its edge cases not at all.

def test_each_refusal_of_a_cache_says_what_is_wrong_in_full(tmp_path):
    d = str(tmp_path / "c")
    FeatureCache.open(d, FP, writable=True).close()
    other = fingerprint("random", 1)
    with pytest.raises(CacheError) as error:
        FeatureCache.open(d, other)
    assert str(error.value) == (f"{d}: this cache was made by a different encoder ("
                                f"weights_id: cache has {FP['weights_id']!r}, requested {other['weights_id']!r}); "
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
    assert FeatureCache.open(str(d)).fingerprint["precision"] == "fp32"
