"""scripts/mutation_counts.py: mutmut's per-mutant lines -> the per-module table in docs/mutation-testing.md."""

import io
import sys

import pytest

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "scripts"))
import mutation_counts  # noqa: E402

pytestmark = pytest.mark.backend_independent  # text in, text out

RESULTS = """\
    captioner.evaluation.cider_d.xǁCiderDǁscore__mutmut_1: killed
    captioner.evaluation.cider_d.xǁCiderDǁscore__mutmut_2: timeout
    captioner.evaluation.cider_d.xǁCiderDǁscores__mutmut_2: survived
    captioner.evaluation.cider_d.x_ngram_counts__mutmut_6: survived
    vocab.stats.xǁVocabStatsǁsummary__mutmut_1: no tests
    vocab.stats.x__percentile__mutmut_3: killed
    vocab.stats.x__percentile__mutmut_4: not checked
"""


def _run(monkeypatch, capsys, tmp_path, equivalents):
    path = tmp_path / "equivalent.txt"
    path.write_text(equivalents, encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(RESULTS))
    code = mutation_counts.main([str(path)])
    return code, capsys.readouterr().out


def test_counts_per_module_with_timeouts_killed_and_the_share_of_the_non_equivalent(monkeypatch, capsys, tmp_path):
    code, out = _run(monkeypatch, capsys, tmp_path,
                     "# comment\ncaptioner.evaluation.cider_d.x_ngram_counts__mutmut_6  the empty n-gram weighs 0\n")
    assert "| captioner/evaluation/cider_d.py | 4 | 2 | 1 | 1 | 0 | 66.7% |" in out  # 2 killed of 3 non-equivalent
    assert "| vocab/stats.py | 2 | 1 | 0 | 0 | 1 | 50.0% |" in out  # not reached by any test: not killed
    assert "| **all** | 6 | 3 | 1 | 1 | 1 | 60.0% |" in out
    assert out.count("untriaged") == 2 and code == 1
    assert "(1 mutants of the configured modules were not run: not in this run's patterns)" in out
    assert "(1 of the killed were stopped (timeout, or a process that died), not failed by a test)" in out


def test_all_triaged_exits_0_and_a_reason_is_required(monkeypatch, capsys, tmp_path):
    reasons = "\n".join(f"{name}  reason" for name in ("captioner.evaluation.cider_d.xǁCiderDǁscores__mutmut_2",
                                                       "captioner.evaluation.cider_d.x_ngram_counts__mutmut_6",
                                                       "vocab.stats.xǁVocabStatsǁsummary__mutmut_1"))
    code, out = _run(monkeypatch, capsys, tmp_path, reasons)
    assert "untriaged" in out and code == 1  # a mutant no test reaches is not made equivalent by a reason
    with pytest.raises(SystemExit, match=r"equivalent.txt:1: vocab.x has no reason"):
        _run(monkeypatch, capsys, tmp_path, "vocab.x\n")


def test_entries_for_killed_or_vanished_mutants_are_stale(monkeypatch, capsys, tmp_path):
    """An entry for a mutant now killed (or timed out), or for a number its function no longer has, is reported and
    fails the run; one for a mutant not run, or of a function this record does not hold, is not."""
    cider = "captioner.evaluation.cider_d."
    reasons = "\n".join(f"{name}  reason" for name in (
        cider + "xǁCiderDǁscores__mutmut_2", cider + "x_ngram_counts__mutmut_6", cider + "xǁCiderDǁscore__mutmut_1",
        cider + "xǁCiderDǁscore__mutmut_2", cider + "xǁCiderDǁscore__mutmut_9",
        "vocab.stats.x__percentile__mutmut_4", "vocab.other.x_f__mutmut_1"))
    code, out = _run(monkeypatch, capsys, tmp_path, reasons)
    stale = [line for line in out.splitlines() if line.startswith("stale")]
    assert stale == [f"stale triage entry (killed, not a survivor): {cider}xǁCiderDǁscore__mutmut_1",
                     f"stale triage entry (timeout, not a survivor): {cider}xǁCiderDǁscore__mutmut_2",
                     f"stale triage entry (no such mutant of its function now): {cider}xǁCiderDǁscore__mutmut_9"]
    assert code == 1
