"""`captioner serve --engine ray`: the same app on Ray Serve. An ingress deployment runs the FastAPI app (auth,
limits, decoding, answers) and a model deployment of `--replicas` replicas each holds the model, warmed once;
Ray Serve's own request batching (`@serve.batch`) coalesces the items of concurrent requests on each replica,
and its proxy spreads requests over the replicas."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

from captioner.base.errors import UsageError
from captioner.serving.batcher import QueueFull, positions_by_key
from captioner.serving.model_calls import CaptionCalls, LabelCalls
from captioner.serving.model_facts import ModelFacts, facts_of_bundle, facts_of_model
from captioner.serving.settings import ServeSettings

INSTALL = "pip install 'ray[serve]>=2.40,<3' (or: bash scripts/setup.sh ray-serve)"
APP_NAME = "captioner"


class RayModel:
    """The app's model side when the model lives in Ray Serve replicas: each good upload is one call to the
    model deployment, whose batching gathers the calls of concurrent requests."""

    max_queue = None  # Ray Serve's max_queued_requests bounds the queue; over it a call fails with back pressure

    def __init__(self, handle, facts: ModelFacts):
        self.handle, self.facts = handle, facts
        self.ready = threading.Event()
        self.not_ready = "the model replicas are loading"

    def start(self) -> None:
        threading.Thread(target=self._wait_for_replicas, name="captioner-ray-ready", daemon=True).start()

    def _wait_for_replicas(self) -> None:
        """A replica answers only once its constructor (load, warm-up) is done; Ray may start the ingress
        before that."""
        try:
            self.handle.ready.remote().result()
        except Exception as exc:  # noqa: BLE001 - the reason is what /readyz reports
            self.not_ready = f"the model replicas did not start: {exc}"
            return
        self.ready.set()

    def stop(self) -> None:
        pass

    def health(self) -> dict:
        return {"engine": "ray"}

    def expect(self, count: int) -> None:
        pass  # Ray Serve's batching waits batch_wait_timeout_s on its own

    def forget(self, count: int) -> None:
        pass

    def submit(self, key, pixels: list, announced: int) -> list:
        return [self.handle.run.remote((key, p)) for p in pixels]

    async def answers(self, responses: list) -> list:
        from ray.serve.exceptions import BackPressureError

        try:
            return await asyncio.gather(*responses)
        except BackPressureError as exc:
            raise QueueFull(f"the model's replicas are at their queue limit ({exc})") from None
        except asyncio.CancelledError:
            for response in responses:
                response.cancel()
            raise


def _deployments(settings: ServeSettings, replicas: int):
    """The two deployment classes; made here so that Ray is imported only for `--engine ray`."""
    from ray import serve

    @serve.deployment(name="captioner-model", num_replicas=replicas, max_ongoing_requests=2 * settings.max_batch,
                      max_queued_requests=settings.max_queue, ray_actor_options={"num_cpus": 1})
    class ModelReplica:
        def __init__(self, directory: str, weights: str | None):
            from captioner.api.classifier_model import ClassifierModel
            from captioner.api.loading import load

            model = load(directory, weights, announce=False)
            self.calls = LabelCalls(model) if isinstance(model, ClassifierModel) else CaptionCalls(model)
            self.calls.warm_up(facts_of_model(model).default_key(settings.max_beam), settings.max_batch)
            self.run.set_max_batch_size(settings.max_batch)
            self.run.set_batch_wait_timeout_s(settings.max_wait_ms / 1000)

        def ready(self) -> bool:
            return True

        @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.01)
        async def run(self, items: list) -> list:
            """[(key, pixels)] -> one answer each, in order; one model call per search setting."""
            out: list = [None] * len(items)
            for key, where in positions_by_key([key for key, _ in items]).items():
                for i, answer in zip(where, self.calls(key, [items[i][1] for i in where])):
                    out[i] = answer
            return out

    @serve.deployment(name="captioner-ingress", num_replicas=1)
    @serve.ingress()
    class Ingress:
        def __init__(self, model_handle, facts: ModelFacts):
            self.side = RayModel(model_handle, facts)

        def __serve_build_asgi_app__(self):
            from captioner.serving.app import create_app

            return create_app(self.side, settings)

    return ModelReplica, Ingress


def serve_on_ray(directory: str, settings: ServeSettings, replicas: int, address: str | None = None,
                 weights: str | None = None) -> None:
    """Run the app on Ray Serve (a local Ray, or the cluster at `address`) until SIGINT or SIGTERM; `settings`
    already checked (`captioner.serving.server.serve` is the entry point)."""
    try:
        import ray
        from ray import serve
    except ImportError:
        raise UsageError(f"--engine ray needs Ray Serve, which is not installed: {INSTALL}") from None
    from captioner.engines.ray_engine import check_reachable, first_line, runtime_env, weights_for_workers

    directory = os.path.abspath(directory)
    facts = facts_of_bundle(directory)  # a bad bundle is refused here, before Ray starts
    try:
        if address:
            check_reachable(address)
            ray.init(address=address, runtime_env=runtime_env(), log_to_driver=False)
        else:
            # Ray runs workers at niceness 15; here the workers are the server, and at 15 they starve beside
            # any busy process (a replica took over 4 minutes to import TensorFlow beside one training job on
            # 2 cores, ~20 s alone). Ray's job manager sets 0 for the same reason.
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(address="local", num_cpus=max(os.cpu_count() or 1, replicas + 1), include_dashboard=False,
                     log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UsageError(f"--engine ray: could not start or join Ray ({first_line(exc)})") from None
    # After ray.init, which installs a SIGTERM handler of its own (a stack dump): a signal now ends the wait, or
    # the start-up, and the deployments are shut down (each replica answers what it holds first).
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _stop)
    try:
        serve.start(http_options={"host": settings.host, "port": settings.port})
        model, ingress = _deployments(settings, replicas)
        app = ingress.bind(model.bind(directory, weights_for_workers(weights) if weights else None), facts)
        serve.run(app, name=APP_NAME, route_prefix="/")
        print(f"serving {directory} on Ray Serve at http://{settings.host}:{settings.port} with {replicas} "
              f"model replica(s) (try it at /, API docs at /docs)", flush=True)
        while True:
            time.sleep(3600)
    except _Stopped:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        serve.shutdown()
        ray.shutdown()


class _Stopped(Exception):
    """SIGINT or SIGTERM."""


def _stop(number, frame):
    raise _Stopped
