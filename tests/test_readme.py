"""The README's promises that can drift: its endpoint table and its quick-start commands."""

from __future__ import annotations

from pathlib import Path

from mockstripe.app import default_areas
from mockstripe.routing import markdown_table, splice_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_endpoint_table_matches_the_route_table():
    expected = splice_table(README, markdown_table(default_areas()))

    assert README == expected, "README.md's endpoint table is stale: run `python -m mockstripe --endpoints README.md`"


def test_quick_start_commands_are_the_ones_ci_runs():
    assert "```sh\npip install . && mockstripe\n```" in README
    assert "```sh\npip install -e '.[test]' && pytest\n```" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "pip install -e '.[test]' && pytest" in ci  # verbatim; the stripe-node check runs after it
