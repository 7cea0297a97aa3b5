#!/usr/bin/env python3
"""Benchmark mockstripe side by side with a bare-aiohttp ceiling and localstripe.

    python3 bench/run.py [--quick]

The first run creates bench/.venv, installs mockstripe from this repository
(editable) and localstripe into it, installs wrk with apt-get if it is
missing (and valgrind), then re-runs itself inside the venv. See bench/README.md for what
each row means.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv"
VENV_PY = VENV / "bin" / "python"
# Rewritten whenever what the venv should contain changes, so a reused venv
# picks up new dependencies of mockstripe without being rebuilt by hand.
STAMP = VENV / ".bench-installed"
THIRD_PARTY = ["localstripe"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark mockstripe against a ceiling and localstripe.")
    p.add_argument("--quick", action="store_true",
                   help="2 s runs, events up to 10^5 only, fewer samples (about a minute)")
    p.add_argument("--duration", type=int, help="seconds per measured wrk run (default 2)")
    p.add_argument("--rounds", type=int, help="measured wrk runs per server and route, best kept (default 3, quick 1)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--soak", type=float, default=0, metavar="MINUTES",
                   help="also run the soak (mixed v1/v2 load over 10,000 keys, RSS sampled) this long; "
                        "the target is measured over 10")
    p.add_argument("--only", action="append", metavar="SECTION",
                   choices=["throughput", "webhooks", "delivery", "scaling", "full_store", "persistence", "cold_start", "instructions"],
                   help="run only this section (repeatable); the others show as not measured")
    p.add_argument("--output", type=Path, default=BENCH / "results.json", help="where to write the JSON results")
    return p.parse_args(argv)


def _pip(*args: str) -> bool:
    argv = [str(VENV_PY), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    # Output only matters when the install fails.
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
    return done.returncode == 0


def ensure_venv() -> None:
    if not VENV_PY.exists():
        print(f"bench: creating {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    want = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + repr(THIRD_PARTY).encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    print("bench: installing localstripe and mockstripe into the bench venv", file=sys.stderr)
    third_party_ok = _pip(*THIRD_PARTY)
    # mockstripe may not be installable yet while the server is being built:
    # the bench then reports its rows as n/a and retries the install next run.
    mock_ok = _pip("-e", str(REPO))
    if not mock_ok:
        print("bench: mockstripe did not install; its rows will be n/a", file=sys.stderr)
    if third_party_ok and mock_ok:
        STAMP.write_text(want)


def ensure_tools() -> None:
    """wrk drives the load; valgrind counts instructions per request."""
    missing = [tool for tool in ("wrk", "valgrind") if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"bench: {' and '.join(missing)} missing; install (e.g. `sudo apt-get install -y {' '.join(missing)}`) and rerun")
    print(f"bench: installing {' and '.join(missing)}", file=sys.stderr)
    install = ["apt-get", "install", "-y", "-q", *missing]
    if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
        # A fresh machine has no package lists yet.
        subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(install, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    if sys.version_info < (3, 11):
        sys.exit("bench: Python 3.11 or newer is required")
    args = parse_args(sys.argv[1:])
    if Path(sys.prefix).resolve() != VENV.resolve():
        ensure_venv()
        ensure_tools()
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])
    # Only importable once inside the venv (they need aiohttp).
    from suite import run_suite

    run_suite(args, repo=REPO, venv=VENV)


if __name__ == "__main__":
    main()
