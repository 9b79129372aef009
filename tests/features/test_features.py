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


def test_a_different_encoder_is_named_field_by_field():
    have, want = fingerprint("random", 1), fingerprint("random-tiny", 2)
    assert have.difference(want) == ("architecture: cache has 'VGG16', requested 'VGG16-tiny'; dim: cache has 4096, "
                                     "requested 64; weights_id: cache has 'seed=1 he-uniform-numpy-v1', requested "
                                     "'seed=2 he-uniform-numpy-v1'")
    assert have.difference(have) == ""


def test_a_read_only_cache_gives_its_fingerprint_and_closes_without_a_lock(tmp_path):
    d = str(tmp_path / "c")
    FeatureCache.open(d, FP, writable=True).close()
    cache = FeatureCache.open(d)
    assert cache.fingerprint == FP
    cache.close()
    cache.close()  # twice: nothing held, nothing to release
