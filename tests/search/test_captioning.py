"""The one features-to-text path (captioner/search/captioning.py), with the search replaced: what it hands the
search and what it gives back. The search itself is tested in test_search.py."""

import numpy as np

from captioner.search.searcher import SearchSettings


def test_the_captioner_hands_its_settings_to_the_search_and_its_words_back(monkeypatch):
    """Found by the mutation run: the one features-to-text path's wiring (settings, dtype, scores) was unchecked."""
    from types import SimpleNamespace

    from captioner.search import captioning
    from vocab import SPECIALS, Vocabulary

    made, calls = [], []

    class FakeSearcher:
        def __init__(self, *args):
            made.append(args)

        def __call__(self, features, scores):
            calls.append((features, scores))
            return [[([1, 4, 5, 2, 0], -1.5), ([1, 5, 2, 0, 0], -2.25)] for _ in features]

    monkeypatch.setattr(captioning, "Searcher", FakeSearcher)
    vocab = Vocabulary(list(SPECIALS) + ["a", "dog"])
    decoder = SimpleNamespace(config=SimpleNamespace(frames=0, max_length=9))
    default = captioning.Captioner(decoder, vocab)
    assert made[0] == (decoder, 9, SearchSettings(1, 1, 0.0, 256), True, False) and default.frames == 0
    clip_decoder = SimpleNamespace(config=SimpleNamespace(frames=8, max_length=7))
    chosen = captioning.Captioner(clip_decoder, vocab, beam_size=3, num_captions=2, length_penalty=0.5,
                                  batch_size=16, feature_dtype="float16", compiled=False, live_weights=True)
    assert made[1] == (clip_decoder, 7, SearchSettings(3, 2, 0.5, 16), False, True) and chosen.frames == 8
    ranked = chosen(np.array([[0.1, 0.2]], np.float64))
    assert ranked == [[captioning.Caption("a dog", -1.5), captioning.Caption("dog", -2.25)]]
    features, scores = calls[0]
    assert scores is True and features.dtype == np.float32 and features[0, 0] == np.float32(np.float16(0.1))
    assert chosen.best(np.zeros((2, 2))) == ["a dog", "a dog"] and calls[1][1] is False  # no scores: the fast path
    assert chosen.records(np.zeros((1, 2))) == [{"caption": "a dog"}]


def test_a_clip_captioner_searches_each_clip_from_its_frames_rows_padded_to_the_models_frames(monkeypatch):
    """The encoder's rows of every frame in order, `counts` a clip: the search gets (clips, frames, D), each clip's
    rows first and zeros after (found by the mutation run: only an image captioner's rows were tried)."""
    from types import SimpleNamespace

    from captioner.search import captioning
    from vocab import SPECIALS, Vocabulary

    given = []

    class FakeSearcher:
        def __init__(self, *args):
            pass

        def __call__(self, features, scores):
            given.append(np.asarray(features))
            return [[([1, 4, 2, 0], -1.0)] for _ in features]

    monkeypatch.setattr(captioning, "Searcher", FakeSearcher)
    clip_decoder = SimpleNamespace(config=SimpleNamespace(frames=3, max_length=5))
    captioner = captioning.Captioner(clip_decoder, Vocabulary(list(SPECIALS) + ["a"]))
    rows = np.arange(1, 7, dtype=np.float32).reshape(3, 2)  # clip 1: frames 1 and 2; clip 2: frame 3
    padded = np.array([[[1, 2], [3, 4], [0, 0]], [[5, 6], [0, 0], [0, 0]]], np.float32)
    assert captioner.of_rows(rows, [2, 1]) == [[captioning.Caption("a", -1.0)]] * 2
    assert captioner.records_of_rows(rows, [2, 1]) == [{"caption": "a"}] * 2
    assert len(given) == 2 and all(np.array_equal(features, padded) for features in given)
