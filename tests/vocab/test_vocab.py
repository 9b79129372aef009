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


# --- what the mutation run (scripts/mutation.sh) found untested ------------------------------------------------

def test_build_orders_by_frequency_then_alphabetically_and_keeps_min_count():
    vocab = Vocabulary.build(["b a a c c d", "d d"], min_count=2)  # d 3, a 2, c 2, b 1 (below min_count)
    assert vocab.tokens[len(SPECIALS):] == ["d", "a", "c"] and vocab.min_count == 2
    again = Vocabulary.from_json(vocab.to_json())
    assert again.min_count == 2 and again.tokens == vocab.tokens
    assert Vocabulary.from_json({k: v for k, v in vocab.to_json().items() if k != "min_count"}).min_count == 1


def test_defaults_min_count_one_and_an_unnamed_source():
    assert Vocabulary(list(SPECIALS) + ["a"]).min_count == 1
    with pytest.raises(VocabularyError, match="^<vocabulary>: not a captioner vocabulary"):
        Vocabulary.from_json({})


def test_decode_drops_ids_past_the_vocabulary():
    vocab = Vocabulary.build(["a dog"])
    assert vocab.decode([1, vocab.id("dog"), len(vocab), len(vocab) + 5, 2]) == "dog"


def test_every_refusal_says_what_is_wrong(tmp_path):
    with pytest.raises(VocabularyError, match=r"vocabulary must start with \('<pad>'"):
        Vocabulary(["a", "b"])
    with pytest.raises(VocabularyError, match="^vocabulary has duplicate tokens$"):
        Vocabulary(list(SPECIALS) + ["a", "a"])
    good = Vocabulary.build(["a dog"]).to_json()
    with pytest.raises(VocabularyError, match="^v.json: not a captioner vocabulary"):
        Vocabulary.from_json(["not", "a", "dict"], source="v.json")
    with pytest.raises(VocabularyError, match=r"^v.json: vocabulary version 99, expected 1$"):
        Vocabulary.from_json({**good, "version": 99}, source="v.json")
    for tokens in ("<pad><start><end><unk>", [0, 1, 2, 3]):
        with pytest.raises(VocabularyError, match="^v.json: 'tokens' must be a list of strings$"):
            Vocabulary.from_json({**good, "tokens": tokens}, source="v.json")
    with pytest.raises(VocabularyError, match="^v.json: vocabulary has duplicate tokens$"):
        Vocabulary.from_json({**good, "tokens": good["tokens"] + ["dog"]}, source="v.json")
    with pytest.raises(VocabularyError, match=r"missing.json: cannot read vocabulary \(No such file or directory\)$"):
        Vocabulary.load(str(tmp_path / "missing.json"))


def test_save_writes_utf8_next_to_the_file_and_leaves_nothing_when_it_fails(tmp_path, monkeypatch):
    import tempfile

    vocab = Vocabulary(list(SPECIALS) + ["café", "狗"])  # build() normalises to ASCII; a vocabulary may hold any word
    made = []
    real = tempfile.mkstemp
    monkeypatch.setattr(tempfile, "mkstemp", lambda **kw: made.append(kw["dir"]) or real(**kw))
    vocab.save(str(tmp_path / "vocab.json"))
    assert made == [str(tmp_path)]  # os.replace is atomic only within one file system: the same folder
    assert '"café"' in (tmp_path / "vocab.json").read_text(encoding="utf-8")  # as written, not \\u escapes
    assert Vocabulary.load(str(tmp_path / "vocab.json")).tokens == vocab.tokens
    (tmp_path / "taken").mkdir()
    with pytest.raises(OSError):  # replacing a folder with a file fails: the error is the caller's to see
        vocab.save(str(tmp_path / "taken"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken", "vocab.json"]  # no temporary file left


def test_stats_percentiles_and_summary_on_hand_worked_lengths():
    vocab = Vocabulary.build(["a b"])
    # 101 captions of 0..100 words: the q-th percentile is q words (index round(q / 100 * 100))
    stats = caption_stats(vocab, [" ".join(["a"] * n) for n in range(101)])
    assert stats.length_percentiles == {50: 50, 90: 90, 99: 99, 100: 100}
    assert stats.summary() == ("vocabulary 6 tokens, 101 captions, 5050 words, coverage 100.0%, "
                               "caption length p50 50 p90 90 p99 99 max 100")
    two = caption_stats(vocab, ["a", "a b c d e"])  # index round(0.5) = 0: the shorter one
    assert two.length_percentiles[50] == 1 and two.length_percentiles[100] == 5
    empty = caption_stats(vocab, [])
    assert empty.coverage == 1.0 and empty.length_percentiles == {50: 0, 90: 0, 99: 0, 100: 0}
