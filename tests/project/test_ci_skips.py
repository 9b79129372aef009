"""The suite's own rule: a test that cannot run for want of a prerequisite skips on a person's machine (and the
run ends with the skips by reason) but fails under CI, naming what is missing (tests/conftest.py)."""

import pathlib

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.backend_independent  # pytest's own machinery

CONFTEST = (pathlib.Path(__file__).resolve().parents[1] / "conftest.py").read_text()
TESTS = {
    "test_needs_things": """
import pytest

def test_runs():
    assert True

def test_needs_java():
    pytest.skip("no Java runtime")

@pytest.mark.skipif(True, reason="no Chromium + chromedriver")
def test_needs_a_browser():
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False
""",
    "test_needs_an_extra": """
import pytest
pytest.importorskip("no_such_extra_module", reason="the [nothing] extra is not installed")

def test_never_collected():
    pass
""",
}


def _run(pytester, monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(**TESTS)
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist")


@pytest.mark.parametrize("ci", [None, "false", "0"])
def test_outside_ci_a_missing_prerequisite_is_a_skip_listed_by_reason(pytester, monkeypatch, ci):
    result = _run(pytester, monkeypatch, ci)
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    text = result.stdout.str()
    assert "skipped tests by reason" in text
    result.stdout.fnmatch_lines(["*skipped tests by reason*"])  # then each reason, its count and its tests:
    result.stdout.fnmatch_lines(["   1  no Java runtime", "        test_needs_things.py::test_needs_java"])
    result.stdout.fnmatch_lines(["   1  no Chromium + chromedriver", "        test_needs_things.py::test_needs_a_browser"])
    result.stdout.fnmatch_lines(["   1  the [[]nothing] extra is not installed", "        test_needs_an_extra.py"])
    assert result.ret == 0


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_a_missing_prerequisite_is_a_failure_naming_it(pytester, monkeypatch, ci):
    result = _run(pytester, monkeypatch, ci)
    # a skip in the test's body fails it; one at set-up (a skipif mark, a fixture) or at collection (the module's
    # importorskip) is an error; either way the run fails, and the other tests still ran
    result.assert_outcomes(passed=1, failed=1, errors=2, xfailed=1)
    for reason in ("no Java runtime", "no Chromium + chromedriver", "the [[]nothing] extra is not installed"):
        result.stdout.fnmatch_lines([f"CI: a prerequisite is missing, so this could not run: {reason}"])
    result.stdout.fnmatch_lines(["*failed in CI: prerequisites missing*"])
    result.stdout.fnmatch_lines(["   1  no Java runtime", "        test_needs_things.py::test_needs_java"])
    assert "none skipped" in result.stdout.str() and result.ret != 0
