"""Serve a model bundle over HTTP: POST /v1/captions (or /v1/labels for an activity classifier) with files in
multipart fields named `file`; GET /v1/model, /healthz, /readyz; the Open Inference Protocol v2 under /v2;
Prometheus metrics at /metrics; a page to try it at /, the API at /docs.

Images of concurrent requests are batched together (--max-batch, --max-wait-ms). Listens on 127.0.0.1 unless
--host says otherwise; any other address needs --api-key (or $CAPTIONER_API_KEY), or --insecure-no-auth.
"""

from __future__ import annotations

from captioner.commands.options import positive_int

HELP = "serve a model over HTTP (batched across requests)"


def positive_float(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


# ServeSettings fields with an option each: (field, argparse type, what it limits)
LIMITS = [
    ("max_batch", positive_int, "images (clips) per model call, across requests"),
    ("max_wait_ms", float, "the longest a batch waits for images already on their way"),
    ("max_queue", positive_int, "images waiting for the model before requests get 503"),
    ("max_files", positive_int, "files per request"),
    ("max_file_mb", positive_float, "size limit per file, MB"),
    ("max_request_mb", positive_float, "size limit per request body, MB"),
    ("timeout_s", positive_float, "answer every request within this many seconds, or 504"),
    ("decode_threads", positive_int, "threads decoding uploaded images"),
    ("clip_decode_threads", positive_int, "clips decoding at once, taking turns (apart from the images)"),
    ("max_frames_decoded", positive_int, "frames decoded per clip; a longer clip gets its reason"),
    ("max_clip_seconds", positive_float, "seconds of video decoded per clip; a longer clip gets its reason"),
    ("max_request_megapixels", positive_float, "pixels decoded per request, every frame and image counted"),
    ("max_beam", positive_int, "largest beam_size a request may ask for"),
]


def add_arguments(parser) -> None:
    from captioner.serving.settings import ServeSettings

    d = ServeSettings()
    parser.add_argument("--model", required=True, metavar="DIR",
                        help="model bundle directory (captions or classes), or a caption model file from `captioner "
                             "export` (.onnx, .tflite: run without TensorFlow)")
    parser.add_argument("--host", default=d.host, help=f"address to listen on (default: {d.host}, this machine only)")
    parser.add_argument("--port", type=int, default=d.port, help=f"port (default: {d.port})")
    parser.add_argument("--api-key", default=None, metavar="KEY",
                        help="require 'Authorization: Bearer KEY' on /v1 (default: $CAPTIONER_API_KEY, else none)")
    parser.add_argument("--insecure-no-auth", action="store_true",
                        help="allow a non-loopback --host without an API key (anyone who can reach it may use it)")
    for name, kind, text in LIMITS:
        default = getattr(d, name)
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=default,
                            help=f"{text} (default: {default:g})")
    parser.add_argument("--name", default=None, metavar="NAME",
                        help="the model's name in the inference protocol, /v2/models/NAME (default: the bundle "
                             "folder's or the exported file's name)")
    parser.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                        help="serve the Prometheus metrics on this port, without the API key (default: at /metrics "
                             "on --port, behind the key when one is set)")
    parser.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="the request log: text lines, or a JSON object per line (default: text)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="'local': this process (default); 'ray': Ray Serve, the model in --replicas replicas "
                             "batched by Ray Serve (the [ray-serve] extra)")
    parser.add_argument("--replicas", type=positive_int, default=1,
                        help="model replicas with --engine ray (default: 1)")
    parser.add_argument("--ray-address", default=None, metavar="HOST:PORT",
                        help="with --engine ray: join the Ray cluster there (default: start a local Ray)")
    parser.add_argument("--weights", default=None, metavar="FILE",
                        help="encoder weights, only needed when the model was trained with a local weights file")


def run(args) -> int:
    from captioner.serving.server import serve
    from captioner.serving.settings import ServeSettings

    settings = ServeSettings(host=args.host, port=args.port, api_key=args.api_key,
                             insecure_no_auth=args.insecure_no_auth, name=args.name,
                             metrics_port=args.metrics_port, log_format=args.log_format,
                             **{name: getattr(args, name) for name, _, _ in LIMITS})
    serve(args.model, settings, args.weights, args.engine, args.replicas, args.ray_address)
    return 0
