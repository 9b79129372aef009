"""REFERENCE ONLY: the classic tutorial recipe, kept out of the package so benchmarks can compare against it.

This is the "merge" model and training loop that most image-captioning tutorials copy (and that this project
exists to replace). It is deliberately faithful, including what makes it slow:
- every caption is expanded into one (image, padded prefix) -> one-hot next word sample per word;
- training batches are one photo each (all samples of that photo's captions);
- greedy generation calls `model.predict` once per word, for one image at a time.
Do not use it for real work; `python -m captioner train` / `caption` do the same job much faster.

Also here: what `against_tutorial` and `search_speed` measure of it (training, BLEU, greedy captions/s) and the
memory its in-memory expansion would need (computed, never run).
"""

from __future__ import annotations

import time

import numpy as np

from captioner.base.backend import import_keras

keras = import_keras()


def build_reference_model(vocab_size: int, max_length: int, feature_dim: int = 4096):
    """image -> Dropout -> Dense 256; words -> Embedding 256 -> Dropout -> LSTM 256; add -> Dense 256 -> softmax."""
    image = keras.Input((feature_dim,))
    fe = keras.layers.Dense(256, activation="relu")(keras.layers.Dropout(0.5)(image))
    words = keras.Input((max_length,))
    se = keras.layers.Embedding(vocab_size, 256, mask_zero=True)(words)
    se = keras.layers.LSTM(256)(keras.layers.Dropout(0.5)(se))
    decoder = keras.layers.Dense(256, activation="relu")(keras.layers.add([fe, se]))
    outputs = keras.layers.Dense(vocab_size, activation="softmax")(decoder)
    model = keras.Model([image, words], outputs)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    return model


def expand_photo(feature: np.ndarray, sequences: list[list[int]], max_length: int, vocab_size: int):
    """All (image, prefix) -> one-hot next word samples of one photo's captions (the tutorial's expansion)."""
    x1, x2, y = [], [], []
    for seq in sequences:
        for i in range(1, len(seq)):
            prefix = np.zeros(max_length, dtype=np.int32)
            tail = seq[max(0, i - max_length):i]
            prefix[max_length - len(tail):] = tail  # pre-padding, as keras pad_sequences does by default
            x1.append(feature)
            x2.append(prefix)
            y.append(keras.utils.to_categorical(seq[i], num_classes=vocab_size))
    return np.array(x1), np.array(x2), np.array(y)


def photo_batches(features: dict, sequences: dict, max_length: int, vocab_size: int):
    """The tutorial's data generator: one photo per batch, forever."""
    while True:
        for key, seqs in sequences.items():
            x1, x2, y = expand_photo(features[key], seqs, max_length, vocab_size)
            yield (x1, x2), y


def train_reference(model, features: dict, sequences: dict, max_length: int, vocab_size: int, epochs: int = 1,
                    validation=None):
    steps = len(sequences)
    return model.fit(photo_batches(features, sequences, max_length, vocab_size), epochs=epochs,
                     steps_per_epoch=steps, verbose=0, validation_data=validation)


def greedy_reference(model, feature: np.ndarray, max_length: int, start_id: int, end_id: int) -> list[int]:
    """One `model.predict` per word, batch size 1, as the tutorial does."""
    sequence = [start_id]
    for _ in range(max_length):
        prefix = np.zeros((1, max_length), dtype=np.int32)
        tail = sequence[-max_length:]
        prefix[0, max_length - len(tail):] = tail
        probs = model.predict([feature[None, :], prefix], verbose=0)
        word = int(np.argmax(probs))
        sequence.append(word)
        if word == end_id:
            break
    return sequence


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

# The tutorial's in-memory expansion holds, per word of every training caption, a float32 copy of the photo
# vector, the padded prefix and a one-hot float32 target: computed for the memory rows, never run.
VOCAB, PREFIX = 3000, 35


def reference_in_memory_gb(captions: int, words_per_caption: float = 14.0) -> float:
    """GB the tutorial's expansion of `captions` training captions would hold in memory (the 90% train split)."""
    samples = captions * 0.9 * words_per_caption
    return samples * (4096 * 4 + PREFIX * 4 + VOCAB * 4) / 2**30
