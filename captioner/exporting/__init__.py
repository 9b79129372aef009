"""A bundle and its encoder as one graph with the search inside, written as ONNX, LiteRT or a SavedModel
(`captioner export`); `captioner.runtime` runs the first two without TensorFlow."""
