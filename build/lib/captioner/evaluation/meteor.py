"""METEOR 1.5 through pycocoevalcap's wrapper: a Java program (its jar ships in the pycocoevalcap wheel).

Java is the one thing the other metrics do not need, so its absence (or a jar that will not run) is reported as a
reason, and the caller prints the other metrics with one line saying METEOR was skipped and why.
"""

from __future__ import annotations

import shutil


class MeteorUnavailable(RuntimeError):
    """METEOR cannot be computed on this machine; the message says why in one line."""


def meteor_scores(references: list[list[str]], hypotheses: list[str]) -> tuple[float, list[float]]:
    """(corpus METEOR, per-item METEOR) of tokenised captions; ~10 s of Java start-up per call."""
    if shutil.which("java") is None:
        raise MeteorUnavailable("no Java runtime on PATH (METEOR 1.5 is a Java program; "
                                "install one, e.g. apt-get install default-jre-headless)")
    from pycocoevalcap.meteor.meteor import Meteor

    scorer = Meteor()
    try:
        # "|||" separates fields in the jar's protocol and a newline ends a request: neither may reach it.
        gts = {i: [_clean(r) for r in refs] for i, refs in enumerate(references)}
        res = {i: [_clean(h)] for i, h in enumerate(hypotheses)}
        total, each = scorer.compute_score(gts, res)
        return float(total), [float(s) for s in each]
    except (OSError, ValueError) as exc:  # the JVM died or answered something that is not a number
        process = scorer.meteor_p
        process.kill()
        error = process.stderr.read().decode(errors="replace").strip().splitlines()
        detail = error[-1] if error else str(exc) or type(exc).__name__
        raise MeteorUnavailable(f"the METEOR jar failed: {detail}") from None
    finally:
        _stop(scorer)


def _clean(text: str) -> str:
    return " ".join(text.replace("|||", " ").split())


def _stop(scorer) -> None:
    """End the JVM now rather than whenever the wrapper is garbage-collected."""
    process = scorer.meteor_p
    if process.stdin and not process.stdin.closed:
        try:
            process.stdin.close()
        except OSError:
            pass
    process.kill()
    process.wait()
    if scorer.lock.locked():  # left held by a request that failed; the wrapper's __del__ takes it again
        scorer.lock.release()
