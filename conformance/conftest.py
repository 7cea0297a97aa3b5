"""The conformance suite's fixtures, and the shape coverage report at the end of the run."""

from __future__ import annotations

from typing import Any

import pytest

pytest.register_assert_rewrite("conformance.promises")

from conformance.recording import session_checker  # noqa: E402 (after the assert rewrite hook)
from conformance.shapes import Seen, ShapeChecker  # noqa: E402


@pytest.fixture
def shapes(request: pytest.FixtureRequest) -> ShapeChecker:
    return session_checker(request.config)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    checker = session_checker(config)
    if not checker.coverage:
        return
    terminalreporter.section("shape coverage (declared fields of the stripe-python SDK returned by mockstripe)")
    for line in checker.report():
        terminalreporter.write_line(line)


# Under pytest-xdist each worker checks its own responses: ship their coverage to the controller.


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["shape_coverage"] = {
            name: [sorted(seen.declared), sorted(seen.expand_only), seen.objects, sorted(seen.returned)]
            for name, seen in session_checker(session.config).coverage.items()
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    coverage = session_checker(node.config).coverage
    for name, (declared, expand_only, objects, returned) in node.workeroutput.get("shape_coverage", {}).items():
        seen = coverage.setdefault(name, Seen(frozenset(declared), frozenset(expand_only)))
        seen.objects += objects
        seen.returned.update(returned)
