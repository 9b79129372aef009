"""REFERENCE ONLY: the classic tutorial recipe, kept out of the package so benchmarks can compare against it.

This is the "merge" model and training loop that most image-captioning tutorials copy (and that this project
exists to replace). It is deliberately faithful, including what makes it slow:
- every caption is expanded into one (image, padded prefix) -> one-hot next word sample per word;
- training batches are one photo each (all samples of that photo's captions);
- greedy generation calls `model.predict` once per word, for one image at a time.
Do not use it for real work; `python -m captioner train` / `caption` do the same job much faster.
"""

from __future__ import annotations

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
