"""The reference recipe's side of scripts/benchmark.py: training, BLEU and greedy speed."""

from __future__ import annotations

import time

import numpy as np
from reference_recipe import build_reference_model, greedy_reference, keras, photo_batches


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def reference_training(data, epochs: int, max_epochs: int) -> dict:
    from captioner.evaluation.metrics import corpus_bleu_scores
    from vocab import Vocabulary, caption_stats

    captions, cache = data["captions"], data["cache"]
    train, val, test = (captions.select(s).captions for s in ("train", "val", "test"))
    texts = [c for caps in train.values() for c in caps]
    vocab = Vocabulary.build(texts)
    max_words = caption_stats(vocab, texts).length_percentiles[99]
    prefix = max_words + 1
    features = {k: v.astype(np.float32) for k, v in zip(cache.keys(), cache.get(cache.keys()))}

    def encode(split):
        return {k: [vocab.encode(c, max_words) for c in caps] for k, caps in split.items() if k in features}

    train_seqs, val_seqs = encode(train), encode(val)
    keras.utils.set_random_seed(0)
    model = build_reference_model(len(vocab), prefix)
    timer = EpochTimer()
    val_data = photo_batches(features, val_seqs, prefix, len(vocab))

    def fit(n_epochs, initial=0, callbacks=()):
        return model.fit(photo_batches(features, train_seqs, prefix, len(vocab)), epochs=n_epochs,
                         initial_epoch=initial, steps_per_epoch=len(train_seqs), validation_data=val_data,
                         validation_steps=len(val_seqs), verbose=0, callbacks=[timer, *callbacks])

    def test_bleu():
        keys = sorted(k for k in test if k in features)
        start = time.perf_counter()
        hyps = [vocab.decode(greedy_reference(model, features[k], prefix, vocab.start_id, vocab.end_id))
                for k in keys]
        rate = len(keys) / (time.perf_counter() - start)
        return corpus_bleu_scores([test[k] for k in keys], hyps), rate

    fit(epochs)
    same_bleu, rate = test_bleu()
    same = {"epochs": epochs, "seconds_per_epoch": round(float(np.median(timer.seconds)), 2),
            "test_bleu_greedy": same_bleu}
    stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    history = fit(max_epochs, initial=epochs, callbacks=[stop])
    early_bleu, _ = test_bleu()
    early = {"epochs": epochs + len(history.history.get("loss", [])) - (stop.wait if stop.stopped_epoch else 0),
             "epochs_run": epochs + len(history.history.get("loss", [])),
             "seconds_per_epoch": round(float(np.median(timer.seconds)), 2), "test_bleu_greedy": early_bleu}
    return {"reference_same_epochs": same, "reference_early_stop": early, "reference_trained_greedy_b1": round(rate, 3)}


def reference_greedy_rate(vocab_size: int, max_words: int, features: np.ndarray) -> float:
    """Captions/s of the reference's per-word predict loop (untrained weights: captions run to full length)."""
    model = build_reference_model(vocab_size, max_words + 1)
    greedy_reference(model, features[0], max_words + 1, 1, 2)  # warm up
    start = time.perf_counter()
    for f in features:
        greedy_reference(model, f, max_words + 1, 1, 2)
    return len(features) / (time.perf_counter() - start)
