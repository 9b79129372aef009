"""GPU benchmark: extraction and generation under the active Keras backend (no TensorFlow needed).

Usage (on the GPU machine):
    KERAS_BACKEND=jax python -m benchmarks gpu [--photos DIR] [--bundle MODEL_DIR] [--images N] [--json OUT]

Prints images/s of extraction beside a bare VGG16 loop (random encoder) for each way of decoding (CPU threads,
CPU processes, the GPU through nvImageCodec when installed) and precision (fp32, bf16); the wall time of the
`extract` command on --photos, start-up included; and greedy / beam captions/s of a trained bundle (if given)
and of an untrained decoder with a Flickr8k-sized vocabulary.
"""

from __future__ import annotations

import argparse
import json
import sys



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", help="a trained model bundle to time (default: none)")
    parser.add_argument("--images", type=int, default=512, help="synthetic images for extraction (default: 512)")
    parser.add_argument("--batch-size", type=int, default=64, help="encoder batch size (default: 64)")
    parser.add_argument("--photos", help="a folder of real photos (default: drawn images)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)

    import numpy as np
    from benchmarks.measuring import extraction_rates
    from benchmarks.measuring import big_vocab_decoder, generation_rates

    from captioner.base.backend import import_keras

    keras = import_keras()
    results = {"backend": keras.config.backend(), "devices": _devices(keras)}
    from captioner.inputs.gpu_decoding import gpu_decoder

    ways = [("cpu", "fp32", False), ("cpu", "fp32", True)]
    if gpu_decoder("auto") is not None:
        ways += [("gpu", "fp32", None), ("gpu", "bf16", None)]
    else:
        results["gpu_decoding"] = "unavailable: nvImageCodec not installed or no GPU"
    for decode, precision, processes in ways:
        name = f"extract_{decode}{'_processes' if processes else ''}_{precision}"
        results[name] = extraction_rates(args.photos, args.images, args.batch_size, decode=decode, precision=precision,
                                processes=processes)
        print(name, json.dumps(results[name]), flush=True)
    if args.photos:
        results["extract_command"] = _extract_command(args.photos, args.batch_size)
        print(json.dumps(results["extract_command"]), flush=True)
    batches = (1, 32, 256, 1024)
    if args.bundle:
        from captioner.models.bundle import load_bundle

        bundle = load_bundle(args.bundle)
        features = np.random.default_rng(0).standard_normal((1024, 4096)).astype(np.float32)
        results["generation_bundle"] = generation_rates(bundle.decoder, bundle.vocab, features, batches, 1024)
    decoder, vocab, features = big_vocab_decoder(1024)
    results["generation_flickr8k_vocab"] = generation_rates(decoder, vocab, features, batches, 1024)
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


def _extract_command(photos: str, batch_size: int) -> dict:
    """`python -m captioner extract` on the folder: wall time with start-up, and the rate it reports."""
    import subprocess
    import tempfile
    import time

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "captioner", "extract", photos, "--cache", tmp + "/c",
                               "--weights", "random", "--batch-size", str(batch_size), "--quiet"],
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
    return {"wall_s": round(wall, 2), "output": done.stdout.strip().splitlines()[-1:], "exit": done.returncode}


def _devices(keras) -> str:
    if keras.config.backend() == "jax":
        import jax

        return ", ".join(str(d) for d in jax.devices())
    return "see the backend's own device list"


if __name__ == "__main__":
    sys.exit(main())
