"""The decoder settings the model and search tests build: tiny, so that a test builds one in a second."""

from captioner.models.model_configs import DecoderConfig


def tiny(design="inject", vocab_size=12):
    return DecoderConfig(vocab_size=vocab_size, max_length=6, feature_dim=4096, units=16, embed_dim=8,
                         dropout=0.0, design=design)
