"""Pixels to vectors: the frozen VGG16 encoder and its fingerprint, the feature cache, extraction into it."""
