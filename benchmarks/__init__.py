"""The project's benchmarks, tuning runs and probes: scripts that print numbers (and the ratios between things
measured side by side in one run) for the docs' results and benchmarks pages.

    python -m benchmarks --list          every benchmark, one line each
    python -m benchmarks NAME [ARGS...]  run one (NAME --help: its usage)

Each module with a `main(argv)` is a benchmark; `measuring` and `tutorial_recipe` are what they share.
"""
