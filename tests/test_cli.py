"""The `mockstripe` command: flags, environment, signals, errors."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from mockstripe import __version__
from mockstripe.app import default_areas
from mockstripe.cli import main, parse_args
from mockstripe.config import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_WEBHOOK_RETRY_SCHEDULE, DEFAULT_WEBHOOK_TIMEOUT
from mockstripe.pytest_plugin import WebhookReceiver
from mockstripe.routing import TABLE_END, TABLE_START, markdown_table

# The console script installed next to the interpreter running the tests.
SCRIPT = shutil.which("mockstripe", path=str(Path(sys.executable).parent))


def health(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/_mock/health", timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else is listening on."""
    with socket.socket() as listener:
        listener.bind((DEFAULT_HOST, 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.skipif(SCRIPT is None, reason="the mockstripe console script is not installed")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_console_script_serves_until_signalled(spawn_server, sig):
    server = spawn_server([SCRIPT, "--port", "0"])

    assert server.url.startswith(f"http://{DEFAULT_HOST}:")
    assert server.port not in (0, DEFAULT_PORT)
    assert {k: v for k, v in health(server.url).items() if k in ("status", "version")} == {
        "status": "ok",
        "version": __version__,
    }
    code, out, err = server.stop(sig)
    assert code == 0
    assert out == f"mockstripe stopped ({sig.name})\n"
    assert "Traceback" not in err


def test_python_dash_m_runs_the_same_command(spawn_server):
    server = spawn_server([sys.executable, "-m", "mockstripe", "--port", "0"])

    assert health(server.url)["status"] == "ok"
    assert server.stop()[0] == 0


def test_debug_log_level_logs_each_request(spawn_server):
    server = spawn_server([sys.executable, "-m", "mockstripe", "--port", "0", "--log-level", "debug"])

    health(server.url)
    code, _, err = server.stop()
    assert code == 0
    assert '"GET /_mock/health HTTP/1.1" 200' in err


def test_port_in_use_is_a_clear_error(busy_port, source_env):
    done = subprocess.run(
        [sys.executable, "-m", "mockstripe", "--port", str(busy_port)],
        capture_output=True, text=True, env=source_env, timeout=20,
    )
    assert done.returncode == 1
    assert done.stderr == f"mockstripe: cannot listen on {DEFAULT_HOST}:{busy_port}: address already in use\n"
    assert done.stdout == ""


WEBHOOK_VARIABLES = (
    "MOCKSTRIPE_WEBHOOK_RETRY_SCHEDULE",
    "MOCKSTRIPE_WEBHOOK_TIMEOUT",
    "MOCKSTRIPE_FORWARD_TO",
    "MOCKSTRIPE_WEBHOOK_SECRET",
)


def test_defaults(monkeypatch):
    for name in (
        "MOCKSTRIPE_HOST",
        "MOCKSTRIPE_PORT",
        "MOCKSTRIPE_LOG_LEVEL",
        "MOCKSTRIPE_STRICT_METER_EVENTS",
        "MOCKSTRIPE_STRICT_ENDPOINTS",
        *WEBHOOK_VARIABLES,
    ):
        monkeypatch.delenv(name, raising=False)

    args = parse_args([])
    assert (args.host, args.port, args.log_level, args.strict_meter_events) == ("127.0.0.1", 12111, "info", False)
    assert (args.webhook_retry_schedule, args.webhook_timeout) == (DEFAULT_WEBHOOK_RETRY_SCHEDULE, DEFAULT_WEBHOOK_TIMEOUT)
    assert (args.forward_to, args.webhook_secret) == (None, None)


def test_webhook_settings_come_from_the_environment_and_flags_win(monkeypatch):
    monkeypatch.setenv("MOCKSTRIPE_WEBHOOK_RETRY_SCHEDULE", "0.5,1")
    monkeypatch.setenv("MOCKSTRIPE_WEBHOOK_TIMEOUT", "2.5")
    monkeypatch.setenv("MOCKSTRIPE_FORWARD_TO", "http://127.0.0.1:4242/hook")
    monkeypatch.setenv("MOCKSTRIPE_WEBHOOK_SECRET", "whsec_from_env")

    args = parse_args([])
    assert (args.webhook_retry_schedule, args.webhook_timeout) == ((0.5, 1.0), 2.5)
    assert (args.forward_to, args.webhook_secret) == ("http://127.0.0.1:4242/hook", "whsec_from_env")
    args = parse_args(["--webhook-retry-schedule", "", "--webhook-timeout", "1", "--forward-to", "https://h/x",
                       "--webhook-secret", "whsec_flag"])
    assert (args.webhook_retry_schedule, args.webhook_timeout) == ((), 1.0)
    assert (args.forward_to, args.webhook_secret) == ("https://h/x", "whsec_flag")
    assert args.strict_endpoints is False


def test_environment_sets_defaults(monkeypatch):
    monkeypatch.setenv("MOCKSTRIPE_HOST", "0.0.0.0")
    monkeypatch.setenv("MOCKSTRIPE_PORT", "8420")
    monkeypatch.setenv("MOCKSTRIPE_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("MOCKSTRIPE_STRICT_METER_EVENTS", "true")
    monkeypatch.setenv("MOCKSTRIPE_STRICT_ENDPOINTS", "1")

    args = parse_args([])
    assert (args.host, args.port, args.log_level, args.strict_meter_events) == ("0.0.0.0", 8420, "warning", True)
    assert args.strict_endpoints is True
    assert parse_args(["--strict-endpoints"]).strict_endpoints is True


def test_flags_override_the_environment(monkeypatch):
    monkeypatch.setenv("MOCKSTRIPE_HOST", "0.0.0.0")
    monkeypatch.setenv("MOCKSTRIPE_PORT", "8420")

    args = parse_args(["--host", "localhost", "--port", "0"])
    assert (args.host, args.port) == ("localhost", 0)


def test_meter_error_report_window(monkeypatch):
    monkeypatch.delenv("MOCKSTRIPE_METER_ERROR_REPORT_WINDOW", raising=False)
    assert parse_args([]).meter_error_report_window == 60.0
    monkeypatch.setenv("MOCKSTRIPE_METER_ERROR_REPORT_WINDOW", "2.5")
    assert parse_args([]).meter_error_report_window == 2.5
    assert parse_args(["--meter-error-report-window", "0.1"]).meter_error_report_window == 0.1


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--port", "70000"], {}, "argument --port: port must be between 0 and 65535, not 70000"),
        ([], {"MOCKSTRIPE_PORT": "http"}, "argument --port: not a port number: 'http'"),
        (["--meter-error-report-window", "0"], {}, "argument --meter-error-report-window: must be a positive number of seconds, not '0'"),
        ([], {"MOCKSTRIPE_LOG_LEVEL": "loud"}, "argument --log-level: log level must be one of debug, info, warning, error, not 'loud'"),
        (["--webhook-retry-schedule", "1,soon"], {}, "argument --webhook-retry-schedule: not a list of seconds such as 1,2,4: '1,soon'"),
        ([], {"MOCKSTRIPE_WEBHOOK_RETRY_SCHEDULE": "-1"}, "argument --webhook-retry-schedule: retry delays must be finite, non-negative seconds: '-1'"),
        (["--webhook-timeout", "0"], {}, "argument --webhook-timeout: must be a positive number of seconds, not '0'"),
        (["--forward-to", "localhost:4242"], {}, "argument --forward-to: not an http(s) URL: 'localhost:4242'"),
        (["--webhook-secret", "sk_test_x"], {}, "argument --webhook-secret: a webhook signing secret starts with whsec_: 'sk_test_x'"),
    ],
)
def test_bad_settings_are_usage_errors(monkeypatch, capsys, argv, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith(f"mockstripe: error: {message}\n")


def test_endpoints_prints_the_route_table(capsys):
    assert main(["--endpoints"]) == 0
    assert capsys.readouterr().out == markdown_table(default_areas()) + "\n"


def test_endpoints_rewrites_the_table_between_the_markers(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{TABLE_START}\n| stale |\n{TABLE_END}\n\nMore.\n")

    assert main(["--endpoints", str(readme)]) == 0
    assert readme.read_text() == f"# Title\n\n{TABLE_START}\n{markdown_table(default_areas())}\n{TABLE_END}\n\nMore.\n"
    assert capsys.readouterr().out == f"mockstripe: updated the endpoint table in {readme}\n"


def test_endpoints_refuses_a_file_without_markers(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")

    assert main(["--endpoints", str(readme)]) == 1
    assert readme.read_text() == "# Title\n"
    assert capsys.readouterr().err == (
        f"mockstripe: cannot update {readme}: no {TABLE_START} ... {TABLE_END} markers\n"
    )


def _customer(url: str, key: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"{url}/v1/customers", data=b"name=Jenny", headers={"Authorization": f"Bearer {key}"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("given", [None, "whsec_chosen_by_the_user"])
def test_forward_to_sends_every_accounts_events_signed_with_one_secret(spawn_server, given):
    receiver = WebhookReceiver()
    try:
        command = [sys.executable, "-m", "mockstripe", "--port", "0", "--forward-to", receiver.url]
        server = spawn_server(command + (["--webhook-secret", given] if given else []))
        line = server.process.stdout.readline()
        found = re.fullmatch(rf"Forwarding events to {re.escape(receiver.url)}; webhook signing secret (whsec_\S+)\n", line)
        assert found, line
        secret = found.group(1)
        assert secret == given if given else len(secret) > 20
        receiver.listen(secret)

        first, second = _customer(server.url, "sk_test_first"), _customer(server.url, "sk_test_second")
        events = [receiver.wait_for("customer.created"), receiver.wait_for("customer.created")]
        assert sorted(event.data.object.id for event in events) == sorted([first["id"], second["id"]])
        assert receiver.rejected == []
        assert server.stop()[0] == 0
    finally:
        receiver.close()
