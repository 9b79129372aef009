"""Where a compiled search step's time goes: XLA's per-operation times for one batch (TensorFlow backend).

Usage:
    python -m benchmarks profile_search [--beam-size 5] [--batch 256] [--top 25]

Runs the search on the Flickr8k-sized untrained decoder (3,000 words, 34-word captions) once to compile, once
under TensorFlow's profiler, and prints the operations that took longest (summed over the loop's steps), e.g.
`MatMul_1` for the classifier's matrix product. Names are XLA's fusions: read them beside a dump of the
optimised HLO (XLA_FLAGS=--xla_dump_to=DIR) to see what each one computes.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import sys
import tempfile
import time



# TensorFlow's runtime frames around the compiled call (each spans the whole batch), not operations.
FRAMES = ("Eager", "TFE_", "__inference", "CpuExecutable", "BlockUntilReady", "KernelAndDeviceFunc")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    from benchmarks.measuring import big_vocab_decoder

    from captioner.base.backend import import_keras
    from captioner.search.captioning import Captioner

    if import_keras().config.backend() != "tensorflow":
        print("profile_search.py reads TensorFlow's profiler: run it with KERAS_BACKEND=tensorflow", file=sys.stderr)
        return 2
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    decoder, vocab, features = big_vocab_decoder(args.batch)
    captioner = Captioner(decoder, vocab, beam_size=args.beam_size, batch_size=args.batch)
    captioner.best(features)  # compile
    with tempfile.TemporaryDirectory() as logdir:
        start = time.perf_counter()
        tf.profiler.experimental.start(logdir)
        captioner.best(features)
        tf.profiler.experimental.stop()
        wall = time.perf_counter() - start
        space = xplane_pb2.XSpace()
        with open(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)[0], "rb") as f:
            space.ParseFromString(f.read())
    total, count = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if name.startswith(FRAMES) or name == "_run":
                    continue
                total[name] += event.duration_ps / 1e9
                count[name] += 1
    print(f"beam {args.beam_size}, batch {args.batch}: {wall * 1e3:.0f} ms for the batch under the profiler "
          "(ThunkExecutor::Execute: all compiled operations together)")
    print(f"{'ms':>9} {'calls':>6}  operation")
    for name, ms in total.most_common(args.top):
        print(f"{ms:9.1f} {count[name]:6d}  {name[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
