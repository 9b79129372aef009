"""The Python API: load a bundle, caption or classify inputs of any kind, and the extract / train / evaluate jobs."""
