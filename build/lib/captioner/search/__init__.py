"""Vectors to text: greedy and beam search over the decoder, and the one features -> captions path."""
