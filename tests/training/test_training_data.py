"""What training reads (captioner/training/training_data.py): captions as token matrices, and batches of them with
their features from the cache in an order that is reshuffled every epoch yet the same after a resume."""

import numpy as np
import pytest

from captioner.training.training_data import (CaptionBatches, ClipCaptionBatches, ShuffledBatches, caption_pairs,
                                              encode_captions)
from vocab import SPECIALS, Vocabulary

pytestmark = pytest.mark.backend_independent  # numpy in, numpy out (Keras only for its PyDataset base)

VOCAB = Vocabulary(list(SPECIALS) + ["a", "dog", "runs", "cat", "sits"])
A, DOG, RUNS, CAT, SITS = (VOCAB.id(w) for w in ("a", "dog", "runs", "cat", "sits"))
START, END = VOCAB.start_id, VOCAB.end_id


def test_caption_pairs_give_each_caption_its_image_in_order():
    assert caption_pairs({"x.jpg": ["a dog", "a dog runs"], "y.jpg": ["a cat"]}) == (
        ["x.jpg", "x.jpg", "y.jpg"], ["a dog", "a dog runs", "a cat"])


def test_captions_become_start_words_end_then_padding_and_longer_ones_are_cut_and_counted():
    tokens, truncated = encode_captions(VOCAB, ["a dog", "a dog runs", "a cat sits a dog"], max_length=3)
    assert tokens.dtype == np.int32 and tokens.shape == (3, 5)
    assert tokens.tolist() == [[START, A, DOG, END, 0],
                               [START, A, DOG, RUNS, END],  # exactly max_length words: kept whole
                               [START, A, CAT, SITS, END]]  # five words: cut to three
    assert truncated == 1


def test_batches_cover_every_sample_once_an_epoch_with_the_last_batch_short():
    batches = ShuffledBatches(10, 4, seed=7)
    assert len(batches) == 3
    seen = [batches.chosen(i) for i in range(len(batches))]
    assert [len(s) for s in seen] == [4, 4, 2]
    assert sorted(np.concatenate(seen).tolist()) == list(range(10))
    assert all((np.diff(s) > 0).all() for s in seen)  # sorted within a batch: the memory map is read forwards


def test_the_order_is_reshuffled_every_epoch_from_seed_and_epoch_so_a_resumed_run_sees_the_same():
    run = ShuffledBatches(50, 8, seed=3)
    first = run.order.copy()
    run.on_epoch_end()
    assert run.epoch == 1 and not np.array_equal(run.order, first)
    resumed = ShuffledBatches(50, 8, seed=3, epoch=1)  # a run resumed at epoch 1
    assert np.array_equal(resumed.order, run.order)
    assert not np.array_equal(ShuffledBatches(50, 8, seed=4, epoch=1).order, run.order)


def test_without_a_seed_the_order_stays_the_files_order_every_epoch():
    validation = ShuffledBatches(5, 2)
    validation.on_epoch_end()
    assert validation.epoch == 0 and validation.order.tolist() == [0, 1, 2, 3, 4]


def test_a_caption_batch_is_its_images_features_the_tokens_in_and_the_next_tokens_out():
    features = np.arange(12, dtype=np.float16).reshape(4, 3)  # 4 cached rows of 3
    tokens, _ = encode_captions(VOCAB, ["a dog", "a cat", "a dog runs"], max_length=3)
    rows = np.array([2, 0, 2])  # caption i belongs to cache row rows[i]
    (x, tokens_in), targets = CaptionBatches(features, rows, tokens, batch_size=2)[0]
    assert x.dtype == np.float32 and x.tolist() == [[6, 7, 8], [0, 1, 2]]
    assert tokens_in.tolist() == tokens[:2, :-1].tolist() and targets.tolist() == tokens[:2, 1:].tolist()


def test_a_clip_batch_gathers_each_clips_frames_with_zeros_for_padding():
    features = np.arange(12, dtype=np.float32).reshape(4, 3)
    rows = np.array([[1, 3], [0, -1]])  # clip 1 has one frame: its second is padding
    tokens, _ = encode_captions(VOCAB, ["a dog", "a cat"], max_length=2)
    (x, _), _ = CaptionBatches(features, rows, tokens, batch_size=2)[0]
    assert x.shape == (2, 2, 3) and x[0].tolist() == [[3, 4, 5], [9, 10, 11]]
    assert x[1].tolist() == [[0, 1, 2], [0, 0, 0]]


def clip_tokens():
    own = [encode_captions(VOCAB, texts, max_length=3)[0] for texts in
           (["a dog", "a dog runs", "a cat", "a cat sits"], ["a cat"])]
    return own, np.zeros((2, 3), np.float32), np.array([[0, 1], [1, -1]])


def test_without_a_seed_each_clip_gives_its_first_captions_repeating_when_it_has_fewer():
    own, features, rows = clip_tokens()
    (x, tokens_in), targets = ClipCaptionBatches(features, rows, own, clips_per_batch=2, captions_per_clip=3)[0]
    assert x.shape == (2, 2, 3) and tokens_in.shape == (6, 4) and targets.shape == (6, 4)
    assert targets[:3].tolist() == own[0][:3, 1:].tolist()  # clip 0's first three, at rows 0-2
    assert targets[3:].tolist() == [own[1][0, 1:].tolist()] * 3  # clip 1's only caption, three times


def test_with_a_seed_each_clip_gives_distinct_captions_chosen_by_seed_and_epoch():
    own, features, rows = clip_tokens()
    batches = ClipCaptionBatches(features, rows, own, clips_per_batch=2, captions_per_clip=2, seed=5)
    (_, first), _ = batches[0]
    again = ClipCaptionBatches(features, rows, own, clips_per_batch=2, captions_per_clip=2, seed=5)[0][0][1]
    assert np.array_equal(first, again)  # the same seed and epoch: the same captions (a resume sees them)
    picked = {tuple(row) for row in first[:2].tolist()}
    assert len(picked) == 2 and picked <= {tuple(r) for r in own[0][:, :-1].tolist()}  # two different ones
    epochs = set()
    for epoch in range(8):
        epochs.add(ClipCaptionBatches(features, rows, own, 2, 2, seed=5, epoch=epoch)[0][0][1][:2].tobytes())
    assert len(epochs) > 1  # another epoch, other captions


def test_a_clip_with_enough_captions_never_gives_one_twice_in_a_step():
    own, features, rows = clip_tokens()
    for seed in range(5):
        (_, tokens_in), _ = ClipCaptionBatches(features, rows, own, 2, captions_per_clip=4, seed=seed)[0]
        assert sorted(map(tuple, tokens_in[:4].tolist())) == sorted(map(tuple, own[0][:, :-1].tolist()))


def test_caption_batches_take_their_order_from_seed_and_epoch():
    """Found by the mutation run: the seed and epoch given to CaptionBatches were not checked to reach the order."""
    features = np.arange(30, dtype=np.float32).reshape(10, 3)
    tokens, _ = encode_captions(VOCAB, ["a dog"] * 10, max_length=2)
    batches = CaptionBatches(features, np.arange(10), tokens, batch_size=4, seed=3, epoch=2)
    assert np.array_equal(batches.order, ShuffledBatches(10, 4, seed=3, epoch=2).order)
    (x, _), _ = batches[0]
    assert x[:, 0].tolist() == (3 * batches.chosen(0)).tolist()  # row r of the cache holds 3r, 3r+1, 3r+2
    assert CaptionBatches(features, np.arange(10), tokens, batch_size=4).order.tolist() == list(range(10))
    first_epoch = CaptionBatches(features, np.arange(10), tokens, batch_size=4, seed=3)  # a new run: epoch 0
    assert np.array_equal(first_epoch.order, ShuffledBatches(10, 4, seed=3, epoch=0).order)


def test_clip_batches_of_a_new_run_start_at_epoch_0():
    own, features, rows = clip_tokens()
    new = ClipCaptionBatches(features, rows, own, 2, 2, seed=5)
    assert new.epoch == 0 and np.array_equal(new[0][0][1], ClipCaptionBatches(features, rows, own, 2, 2, seed=5,
                                                                               epoch=0)[0][0][1])


def test_every_cut_caption_is_counted():
    _, truncated = encode_captions(VOCAB, ["a dog runs a cat", "a cat sits a dog", "a dog"], max_length=3)
    assert truncated == 2


def _decoder_config(frame_encoder: str):
    from captioner.models.model_configs import DecoderConfig

    return DecoderConfig(vocab_size=12, max_length=6, feature_dim=64 * 64 * 3, frames=2, frame_encoder=frame_encoder)


@pytest.mark.backend_independent  # numpy only
def test_training_batches_a_caption_a_sample_or_for_its_own_cnn_a_few_captions_a_clip():
    from captioner.training.train import CAPTIONS_PER_CLIP, _batches

    captions = {"c1": ["a"] * 3, "c2": ["b"] * 7, "c3": ["c"]}  # 11 captions, in caption_pairs order
    tokens = np.arange(11 * 5).reshape(11, 5)
    row_of, features = {"c1": 2, "c2": 0, "c3": 1}, np.zeros((3, 2, 4), np.float32)
    plain = _batches(_decoder_config("lstm"), features, row_of, captions, tokens, 4, seed=3, epoch=2)
    assert isinstance(plain, CaptionBatches) and (plain.batch_size, plain.seed, plain.epoch) == (4, 3, 2)
    np.testing.assert_array_equal(plain.rows, [2] * 3 + [0] * 7 + [1])  # each caption's clip row
    own_cnn = _batches(_decoder_config("cnn"), features, row_of, captions, tokens, 10, seed=3, epoch=2)
    assert isinstance(own_cnn, ClipCaptionBatches) and (own_cnn.seed, own_cnn.epoch) == (3, 2)
    assert own_cnn.captions_per_clip == CAPTIONS_PER_CLIP == 5  # min(5, the most a clip has: 7)
    assert own_cnn.batch_size == 2  # 10 captions a step: 2 clips of 5
    np.testing.assert_array_equal(own_cnn.rows, [2, 0, 1])
    assert plain.features is features and own_cnn.features is features
    assert [t.tolist() for t in own_cnn.tokens] == [tokens[:3].tolist(), tokens[3:10].tolist(), tokens[10:].tolist()]
    few = {"c1": ["a", "b"], "c2": ["c"]}
    small = _batches(_decoder_config("cnn"), features, {"c1": 0, "c2": 1}, few, tokens[:3], 3)
    assert (small.captions_per_clip, small.batch_size, small.seed, small.epoch) == (2, 1, None, 0)
