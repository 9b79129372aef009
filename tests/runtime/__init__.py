"""Tests of captioner/runtime/: exported models run without Keras, their records checked."""
