"""A Ray cluster for tests to join (`--ray-address`): prints its address, and shuts down when stdin closes.

Started by ray.init in this process rather than `ray start`, so that it goes away with this process and
leaves nothing running on the machine."""

import logging
import sys

import ray

ray.init(address="local", num_cpus=int(sys.argv[1]), include_dashboard=False, logging_level=logging.ERROR)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
