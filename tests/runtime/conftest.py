"""The session's tiny trained caption model exported once per module: ONNX and LiteRT, greedy and beam 3."""

import pytest


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    """{(format, beam_size): path} of `trained`'s model."""
    import captioner

    out = tmp_path_factory.mktemp("exported")
    paths = {}
    for fmt, suffix in (("onnx", ".onnx"), ("litert", ".tflite")):
        for beam in (1, 3):
            path = out / f"model-{beam}{suffix}"
            captioner.export(str(trained / "model"), fmt, str(path), "greedy" if beam == 1 else "beam", beam)
            paths[fmt, beam] = path
    return paths
