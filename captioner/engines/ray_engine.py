"""`--engine ray`: files are listed here, decoded in Ray CPU tasks, encoded (and captioned) in an actor pool,
and the batches stream back to this process, which alone writes the cache and the results journal.

One writer keeps every guarantee of the local engine: a batch is committed whole or not at all, a rerun skips
what is committed, and nothing is written twice. A killed worker's batch is run again by Ray (tasks are
retried, actors restarted); a killed driver loses at most the batches not yet committed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import warnings
from contextlib import ExitStack, contextmanager
from typing import Iterator

import numpy as np

from captioner.base.errors import CaptionerError, UsageError
from captioner.engines.ray_log_filter import without_core_logs
from captioner.features.extraction import EncodedBatch
from captioner.inputs.images import ImageFile

# What an encoder actor holds (VGG16's 528 MB of float32 weights, the framework, a batch's activations), for
# Ray's scheduler: it keeps a node from being given more encoders than its memory takes.
ENCODER_MEMORY = 2 * 1024**3
INSTALL = "pip install 'ray[data]>=2.40,<3' (or: bash scripts/setup.sh ray)"


def import_ray():
    try:
        import ray
        import ray.data
    except ImportError:
        raise UsageError(f"--engine ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


@contextmanager
def ray_session(address: str | None, workers: int | None):
    """Ray for one command: a local Ray on this machine, or the running cluster at `address` (joined, left
    running). Workers on a cluster get this checkout's `captioner` and `vocab` packages from the driver."""
    ray = import_ray()
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    with ExitStack() as stack:
        try:
            if address:  # joining starts no process here, so Ray's retry lines are filtered from the start
                check_reachable(address)
                stack.enter_context(without_core_logs())
                ray.init(address=address, runtime_env=runtime_env(), **quiet)
            else:
                # Logical CPUs: enough for every encoder actor plus one decoding task, whatever the core count.
                ray.init(address="local", num_cpus=max(os.cpu_count() or 1, (workers or 1) + 1),
                         include_dashboard=False, **quiet)
                stack.enter_context(without_core_logs())  # after: Ray's own processes keep the real stderr
        except (ConnectionError, RuntimeError, ValueError) as exc:
            if address:
                raise UsageError(f"--ray-address {address}: could not join the Ray cluster there "
                                 f"({first_line(exc)}); a cluster with token authentication also needs "
                                 "RAY_AUTH_MODE=token and its token") from None
            raise UsageError(f"--engine ray: could not start a local Ray ({first_line(exc)})") from None
        # Ray Data's tuning hints (e.g. "only received 1 input" for a small folder) are not the user's to act on.
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", category=UserWarning, module=r"ray\.data")
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the command's own progress bar counts the files
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        try:
            yield
        finally:
            ray.shutdown()


def check_reachable(address: str) -> None:
    """A quick TCP probe of HOST:PORT: Ray itself retries an address that does not answer for many minutes."""
    host, _, port = address.split("://")[-1].rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise UsageError(f"--ray-address {address}: nothing answers there ({exc.strerror or exc}); is Ray "
                         "running (ray start --head) and the port open?") from None


def runtime_env() -> dict:
    import captioner
    import vocab

    env = {"py_modules": [os.path.dirname(captioner.__file__), os.path.dirname(vocab.__file__)]}
    backend = os.environ.get("KERAS_BACKEND")
    return {**env, "env_vars": {"KERAS_BACKEND": backend}} if backend else env


def weights_for_workers(weights: str) -> str:
    """--weights as the workers need it: a local file by its absolute path (they do not share this process's
    working directory), `imagenet` and the random ones as they are."""
    from captioner.features.encoder import RANDOM

    return weights if weights == "imagenet" or weights in RANDOM else os.path.abspath(weights)


class RayEngine:
    """Called with files and a batch size, yields `EncodedBatch`es as Ray finishes them (in no fixed order).

    `stage` is a `ray_stages` actor class and `stage_args` its constructor's keyword arguments (with the
    `feature_dtype` its vectors come back in, None for none). `workers`:
    actors in the pool (default: one per GPU in the cluster, else 1), each with a GPU when there are any."""

    def __init__(self, stage, stage_args: dict, workers: int | None = None, size: int = 224):
        self.stage, self.stage_args, self.size = stage, stage_args, size
        self.feature_dtype = np.dtype(stage_args.get("feature_dtype") or "float32")
        ray = import_ray()
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
        self.workers = workers or max(1, gpus)
        self.resources = {"num_gpus": 1} if gpus else {"num_cpus": 1}
        # On CPUs each actor holds one, and decoding needs one more: fewer would wait forever.
        if not gpus and cpus < self.workers + 1:
            raise UsageError(f"--workers {self.workers} needs {self.workers + 1} CPUs in the Ray cluster (one per "
                             f"encoder, one or more for decoding); it has {cpus}")

    def __call__(self, items: list[ImageFile], batch_size: int) -> Iterator[EncodedBatch]:
        if not items:
            return
        by_key = {it.key: it for it in items}
        seen: set[str] = set()
        try:
            for block in self.dataset(items, batch_size).iter_batches(batch_size=None, batch_format="numpy"):
                batch = _encoded_batch(block, by_key, seen, self.feature_dtype)
                if batch.good or batch.bad:
                    yield batch
        except CaptionerError:
            raise
        except Exception as exc:  # a worker's error arrives wrapped by Ray: ours is said as it is
            raise _ours(exc) or UsageError(f"--engine ray: the run failed on a worker ({first_line(exc)})") from None

    def dataset(self, items: list[ImageFile], batch_size: int):
        """The Ray Data pipeline: files -> decoding tasks -> the actor pool (lazy: nothing runs yet)."""
        ray = import_ray()
        from captioner.engines.ray_stages import decode_files

        # Whole files per batch: about `batch_size` frames, a clip counting its N.
        per_batch = max(1, batch_size // max(1, max(it.frames for it in items)))
        rows = [{"key": it.key, "path": os.path.abspath(it.path), "frames": it.frames} for it in items]
        files = ray.data.from_items(rows, override_num_blocks=math.ceil(len(rows) / per_batch))
        decoded = files.map_batches(decode_files, batch_size=per_batch, fn_kwargs={"size": self.size}, num_cpus=1)
        # Resources unlike the decoding's also keep Ray from fusing the decoding into the actors. A killed
        # actor is restarted and its batch run again (Ray Data's actor pools retry without limit).
        return decoded.map_batches(self.stage, batch_size=per_batch, fn_constructor_kwargs=self.stage_args,
                                   compute=ray.data.ActorPoolStrategy(size=self.workers), memory=ENCODER_MEMORY,
                                   **self.resources)


def _encoded_batch(block: dict, by_key: dict[str, ImageFile], seen: set[str], dtype: np.dtype) -> EncodedBatch:
    good, counts, bad, features, records = [], [], [], [], []
    for key, count, error, vectors, record in zip(block["key"], block["count"], block["error"], block["features"],
                                                  block["record"]):
        key = str(key)
        if key in seen:  # a batch Ray ran twice: the first copy is the one kept
            continue
        seen.add(key)
        item = by_key[key]
        if error:
            bad.append((item, str(error)))
            continue
        good.append(item)
        counts.append(int(count))
        features.append(np.frombuffer(vectors, dtype).reshape(int(count), -1) if len(vectors) else None)
        records.append(json.loads(record) if record else None)
    have_features = good and all(f is not None for f in features)
    return EncodedBatch(good, np.concatenate(features) if have_features else None, counts, bad,
                        records if good and records[0] is not None else None)


def _ours(exc: BaseException) -> CaptionerError | None:
    """Our own error (a usage or input problem met on a worker), found in Ray's wrapping."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, CaptionerError):
            return exc
        cause = getattr(exc, "cause", None)
        exc = cause if isinstance(cause, BaseException) else exc.__cause__
    return None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


@contextmanager
def ray_engine(args, stage, stage_args: dict):
    """The RayEngine for a command's --engine ray options, in its own Ray session."""
    with ray_session(args.ray_address, args.workers):
        yield RayEngine(stage, stage_args, args.workers)


def check_engine_options(args) -> None:
    if args.engine != "ray" and (args.ray_address or args.workers):
        raise UsageError("--ray-address and --workers go with --engine ray")
    if args.engine == "ray" and getattr(args, "decode", "auto") == "gpu":
        raise UsageError("--decode gpu is the local engine's; with --engine ray files are decoded in Ray CPU tasks")
