import collections
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data beside the checkout; tests that need it skip when it is absent (fail in CI)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory):
    """A small synthetic dataset (20 images), written once per test session."""
    from captioner.drawn.shapes import write_synthetic

    directory = tmp_path_factory.mktemp("synthetic")
    token_file = write_synthetic(str(directory), num_images=20, seed=1)
    return pathlib.Path(token_file).parent


@pytest.fixture(scope="session")
def random_encoder():
    """VGG16 fc2 with seeded random weights: building it costs seconds, so it is shared."""
    from captioner.features.encoder import Encoder

    return Encoder("random", seed=0)


@pytest.fixture(scope="session")
def trained(synthetic, tmp_path_factory):
    """A tiny model trained for 3 epochs on the synthetic set: work/model (bundle) and work/cache."""
    from captioner.cli import main

    work = tmp_path_factory.mktemp("trained")
    code = main(["train", "--captions", str(synthetic / "captions.token.txt"), "--images", str(synthetic / "Images"),
                 "--cache", str(work / "cache"), "--out", str(work / "model"), "--weights", "random-tiny",
                 "--epochs", "3", "--units", "32", "--embed-dim", "16", "--quiet"])
    assert code == 0
    return work


@pytest.fixture
def run_cli(capsys):
    """Run `python -m captioner ARGS` in-process; returns (exit status, stdout, stderr)."""
    from captioner.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(autouse=True)
def _library_log_as_a_library_leaves_it():
    """A command run in-process shows the `captioner` log on stderr; the next test starts without that."""
    yield
    from captioner.commands.log_lines import stop_showing_log

    stop_showing_log()


def pytest_configure(config):
    if in_ci():  # a module that could not be collected fails the run, but does not keep the rest from running
        config.option.continue_on_collection_errors = True
    config.addinivalue_line("markers", "backend_independent: exercises no Keras code of its own beyond what other "
                                       "tests cover under each backend; scripts/test.sh runs it under TensorFlow only")
    config.addinivalue_line("markers", "slow: processes killed or started (subprocesses, Ray, Chromium), demos, "
                                       "the clip and classifier trainings, keras.applications' VGG16; "
                                       "`scripts/test.sh --quick` leaves these out")
    # Keras' TensorFlow backend calls np.array(tensor) in a way numpy 2 flags; not ours, and harmless.
    config.addinivalue_line("filterwarnings", "ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


# The longest files first: the whole suite hands out a file at a time to each core's worker, and the Ray file
# (about a third of the TensorFlow pass) started last kept one worker busy alone at the end.
LONGEST_FIRST = ("test_ray_engine.py", "test_clip_model.py", "test_activity.py")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file, and of the other files, stays


# --- no silent skips -------------------------------------------------------------------------------------------
# A test skips when a prerequisite is missing (../shared/data, Java, Chromium and its driver, a Ray head that will
# not start, an extra). On a person's machine that is a skip, listed at the end of the run by reason. Under CI
# (the CI variable set, as .ci/run does) the same skip is a failure whose message names what is missing: a run
# that could not test an area must not print "passed" like one that did.

CI_PREFIX = "CI: a prerequisite is missing, so this could not run: "


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: reason")
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason.removeprefix("Skipped: ").strip() or "no reason given"


def _fail_skip_in_ci(report) -> None:
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = CI_PREFIX + _skip_reason(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):  # a whole module skipped (pytest.importorskip at its top): in CI a
    # collection error, and the session goes on to run the other modules (pytest_configure below)
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Skipped tests grouped by reason, with their count and names; under CI, the skips made failures."""
    groups = collections.defaultdict(list)
    for report in terminalreporter.stats.get("skipped", []):
        groups[_skip_reason(report)].append(report.nodeid)
    missing = collections.defaultdict(list)
    for key in ("failed", "error"):
        for report in terminalreporter.stats.get(key, []):
            if isinstance(report.longrepr, str) and report.longrepr.startswith(CI_PREFIX):
                missing[report.longrepr.removeprefix(CI_PREFIX)].append(report.nodeid)
    terminalreporter.section("skipped tests by reason", sep="-")
    if not groups:
        terminalreporter.write_line("none skipped")
    _write_groups(terminalreporter, groups)
    if missing:
        terminalreporter.section("failed in CI: prerequisites missing", sep="-")
        _write_groups(terminalreporter, missing)


def _write_groups(terminalreporter, groups: dict[str, list[str]]) -> None:
    """Each reason with its count, the largest first, then its tests by name."""
    for reason, names in sorted(groups.items(), key=lambda item: -len(item[1])):
        terminalreporter.write_line(f"{len(names):4d}  {reason}")
        for name in sorted(names):
            terminalreporter.write_line(f"        {name}")
