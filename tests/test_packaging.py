"""The Docker image, without a Docker engine: install a wheel built from exactly what the
Dockerfile copies into a fresh venv, run the Dockerfile's CMD and check it with its HEALTHCHECK."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mockstripe import __version__
from mockstripe.config import DEFAULT_PORT

ROOT = Path(__file__).resolve().parents[1]


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def only(name: str) -> str:
    (arguments,) = [rest for word, rest in instructions() if word == name]
    return arguments


def cmd() -> list[str]:
    return json.loads(only("CMD"))


def healthcheck() -> list[str]:
    options, _, command = only("HEALTHCHECK").partition("CMD ")
    assert options.split() and all(option.startswith("--") for option in options.split())
    return json.loads(command)


def copied() -> list[str]:
    """What the image's `COPY`s take from the build context."""
    return [source for word, rest in instructions() if word == "COPY" for source in rest.split()[:-1]]


def test_dockerfile_serves_the_default_port_on_all_interfaces():
    assert only("FROM").startswith("python:3.")
    assert only("EXPOSE") == str(DEFAULT_PORT)
    assert cmd() == ["mockstripe", "--host", "0.0.0.0"]
    python, flag, snippet = healthcheck()
    assert (python, flag) == ("python", "-c")
    assert "/_mock/health" in snippet


def test_dockerignore_lets_through_what_the_dockerfile_copies():
    kept = {line[1:] for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    assert kept == set(copied())


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel built from the Dockerfile's COPY sources; returns its bin dir."""
    base = tmp_path_factory.mktemp("image")
    context = base / "context"
    context.mkdir()
    for source in copied():
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / source, context / source)
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(base / "dist"), str(context)])
    (wheel,) = (base / "dist").glob("mockstripe-*.whl")
    venv = base / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", str(wheel)])
    return venv / "bin"


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    # Away from the source tree, which `python -c` would otherwise import from the current directory.
    kwargs.setdefault("cwd", Path(command[0]).parent)
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done


def image_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that would import the source tree instead of the wheel."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MOCKSTRIPE_URL")}
    return {**env, **extra}


def test_the_installed_wheel_runs_the_images_command_and_passes_its_healthcheck(installed, spawn_server):
    program, *flags = cmd()
    python, *probe = healthcheck()
    where = run([str(installed / python), "-c", "import mockstripe; print(mockstripe.__file__)"], env=image_env())
    assert where.stdout.startswith(str(installed.parent))

    server = spawn_server([str(installed / program), *flags], env=image_env(MOCKSTRIPE_PORT="0"))

    assert server.url.startswith("http://0.0.0.0:")
    run([str(installed / python), *probe], env=image_env(MOCKSTRIPE_PORT=str(server.port)))
    code, out, _ = server.stop(signal.SIGTERM)
    assert (code, out) == (0, "mockstripe stopped (SIGTERM)\n")
    down = subprocess.run(
        [str(installed / python), *probe],
        env=image_env(MOCKSTRIPE_PORT=str(server.port)), capture_output=True, timeout=20, cwd=installed,
    )
    assert down.returncode != 0


def test_the_wheel_carries_the_version_and_entry_points(installed):
    metadata = run(
        [str(installed / "python"), "-c",
         "from importlib.metadata import distribution as d; m = d('mockstripe');"
         "print(m.version); print(sorted((e.group, e.name, e.value) for e in m.entry_points))"],
        env=image_env(),
    )
    assert metadata.stdout.splitlines() == [
        __version__,
        "[('console_scripts', 'mockstripe', 'mockstripe.cli:main'), ('pytest11', 'mockstripe', 'mockstripe.pytest_plugin')]",
    ]
