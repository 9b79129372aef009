"""Captions/s of the project's search, shared by scripts/benchmark.py (CPU) and scripts/bench_gpu.py."""

from __future__ import annotations

import time

import numpy as np


def _rate(fn, n: int, repeat: int = 3) -> float:
    fn()  # compile / warm up
    best = min(_timed(fn) for _ in range(repeat))
    return n / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def generation_rates(decoder, vocab, features: np.ndarray, batches=(1, 32, 256), beam_batch: int = 256) -> dict:
    """Greedy captions/s at each batch size, and beam-3 / beam-5 at `beam_batch` images per call."""
    from captioner.search.captioning import Captioner

    rates = {}
    for batch in batches:
        captioner = Captioner(decoder, vocab, beam_size=1, batch_size=batch)
        chunk = features[:batch]
        rates[f"greedy_b{batch}"] = _rate(lambda: captioner.best(chunk), len(chunk))
    for beam in (3, 5):
        captioner = Captioner(decoder, vocab, beam_size=beam, batch_size=beam_batch)
        chunk = features[:beam_batch]
        rates[f"beam{beam}_b{beam_batch}"] = _rate(lambda: captioner.best(chunk), len(chunk))
    return {k: round(v, 1) for k, v in rates.items()}


def big_vocab_decoder(n_features: int = 256):
    """An untrained decoder with a Flickr8k-sized vocabulary (3,000 tokens) and 34-word captions."""
    from captioner.models.decoder import DecoderConfig, build_decoder
    from vocab import SPECIALS, Vocabulary

    vocab = Vocabulary(list(SPECIALS) + [f"w{i}" for i in range(2996)])
    decoder = build_decoder(DecoderConfig(vocab_size=len(vocab), max_length=34))
    features = np.random.default_rng(0).standard_normal((n_features, 4096)).astype(np.float32)
    return decoder, vocab, features
