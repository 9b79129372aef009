"""The frame-CNN tests' model: small frames, few of them, a tiny CNN, so that the tests train in seconds."""

SIZE, FRAMES = 16, 4  # small frames and few of them: the tests train in seconds
CNN_FLAGS = ["--frame-encoder", "cnn", "--frame-size", str(SIZE), "--frames", str(FRAMES), "--cnn-filters", "4",
             "--cnn-blocks", "2", "--cnn-dense", "8", "--units", "16"]
