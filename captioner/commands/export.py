"""Export a caption model (with its encoder and search) or an activity classifier (with its encoder) as one
graph, to run where TensorFlow is not installed.

    captioner export --model runs/f8k --format onnx --out f8k.onnx
    captioner caption --model f8k.onnx photo.jpg          (ONNX Runtime: pip install 'captioner[onnx]')

The file takes (B, 224, 224, 3) uint8 RGB pixels (each image squashed to 224 x 224, bilinear; a clip model
(B, N, 224, 224, 3) frames and each clip's frame count) and returns the token ids and log-probabilities of each
input's best captions; the vocabulary, the pixel recipe and the search
settings travel with it (ONNX: the file's metadata; LiteRT: FILE.tflite.json beside it; SavedModel:
captioner.json in the folder). See docs/export.md.
"""

from __future__ import annotations

from captioner.commands.options import positive_int

HELP = "export a model (encoder + decoder + search, or a classifier) to ONNX, LiteRT or a SavedModel"


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="caption model or classifier bundle directory")
    parser.add_argument("--format", required=True, choices=["onnx", "litert", "saved_model"],
                        help="onnx (.onnx file), litert (.tflite file + .tflite.json) or saved_model (a folder)")
    parser.add_argument("--out", required=True, metavar="PATH", help="the file (or SavedModel folder) to write")
    parser.add_argument("--search", choices=["greedy", "beam"], default="beam",
                        help="the search inside the graph (default: beam)")
    parser.add_argument("--beam-size", type=positive_int, default=3, help="beam width for --search beam (default: 3)")
    parser.add_argument("--max-length", type=positive_int, default=None,
                        help="words per caption at most (default: the model's)")
    parser.add_argument("--precision", choices=["float32", "float16"], default="float32",
                        help="float16 stores the weights in half the size, computed in float32 (onnx, litert; default: "
                             "float32)")
    parser.add_argument("--weights", default=None, metavar="FILE",
                        help="encoder weights, only needed when the model was trained with a local weights file")


def run(args) -> int:
    from captioner.exporting.export import export

    report = export(args.model, args.format, args.out, args.search, args.beam_size, args.max_length, args.precision,
                    args.weights)
    print(report.summary())
    return 0
