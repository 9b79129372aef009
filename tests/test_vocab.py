import json

import pytest

from vocab import END, PAD, SPECIALS, START, UNK, Vocabulary, VocabularyError, caption_stats, normalise

pytestmark = pytest.mark.backend_independent  # no Keras in vocab/


def test_normalise_lowercases_strips_punctuation_and_keeps_short_words():
    assert normalise("A dog's  ball, tri-colored!") == "a dogs ball tri colored"
    assert normalise("I see a 2 cats.") == "i see a 2 cats"
    assert normalise("Café  NAÏVE") == "cafe naive"
    assert normalise("  ...  ") == ""


def test_specials_have_fixed_ids():
    v = Vocabulary.build(["a dog"])
    assert v.tokens[:4] == [PAD, START, END, UNK] == list(SPECIALS)
    assert (v.pad_id, v.start_id, v.end_id, v.unk_id) == (0, 1, 2, 3)


def test_min_count_and_frequency_order():
    v = Vocabulary.build(["a dog runs", "a dog sits", "a cat"], min_count=2)
    assert v.tokens[4:] == ["a", "dog"]
    assert v.id("cat") == v.unk_id


def test_encode_decode_round_trip():
    v = Vocabulary.build(["A black dog runs on the grass ."])
    ids = v.encode("a black dog runs on the grass")
    assert ids[0] == v.start_id and ids[-1] == v.end_id
    assert v.decode(ids) == "a black dog runs on the grass"


def test_decode_drops_specials_and_stops_at_end():
    v = Vocabulary.build(["a dog"])
    a, dog = v.id("a"), v.id("dog")
    assert v.decode([v.start_id, a, v.unk_id, dog, v.end_id, a, a]) == "a dog"
    assert v.decode([v.start_id, a, v.pad_id, v.pad_id]) == "a"


def test_encode_truncates_to_max_length():
    v = Vocabulary.build(["one two three four"])
    assert v.decode(v.encode("one two three four", max_length=2)) == "one two"
    assert len(v.encode("one two three four", max_length=2)) == 4


def test_save_load_round_trip(tmp_path):
    v = Vocabulary.build(["a red circle", "a blue square"], min_count=1)
    path = tmp_path / "vocab.json"
    v.save(str(path))
    w = Vocabulary.load(str(path))
    assert w.tokens == v.tokens and w.min_count == 1
    assert json.loads(path.read_text())["version"] == 1


def test_load_refuses_foreign_json_naming_the_file(tmp_path):
    path = tmp_path / "v.json"
    path.write_text('{"tokens": ["a"]}')
    with pytest.raises(VocabularyError, match="v.json"):
        Vocabulary.load(str(path))
    path.write_text("{not json")
    with pytest.raises(VocabularyError, match="not valid JSON"):
        Vocabulary.load(str(path))


def test_stats():
    v = Vocabulary.build(["a dog", "a cat", "a dog runs fast"], min_count=2)
    s = caption_stats(v, ["a dog", "a cat", "a dog runs fast"])
    assert s.size == 6 and s.captions == 3 and s.tokens == 8
    assert s.coverage == pytest.approx(5 / 8)
    assert s.length_percentiles[100] == 4 and s.length_percentiles[50] == 2


def test_full_flickr8k_vocabulary_builds_fast(shared_data):
    import time

    from captioner.datasets import load_captions

    start = time.perf_counter()
    captions = load_captions(str(shared_data / "flickr8k_text" / "Flickr8k.token.txt"))
    v = Vocabulary.build(c for cs in captions.captions.values() for c in cs)
    elapsed = time.perf_counter() - start
    assert 7000 < len(v) < 10000
    print(f"full Flickr8k: {elapsed:.2f}s")  # the budget is 2 s; shown, not asserted (timings vary)
