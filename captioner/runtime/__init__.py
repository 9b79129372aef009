"""Running an exported model without Keras, TensorFlow or JAX: ONNX Runtime or LiteRT, the project's own input
decoding (`captioner.inputs`) and vocabulary (`vocab`). Its imports are checked (pyproject.toml's contracts)."""
