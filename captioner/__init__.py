"""captioner: CNN-LSTM image captioning on Keras 3 (see README.md)."""

__version__ = "0.1.0"
