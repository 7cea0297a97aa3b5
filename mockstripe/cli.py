"""The `mockstripe` command (also `python -m mockstripe`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import datetime, timezone
from urllib.parse import urlsplit

from .config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_REQUEST_LOG_SIZE,
    DEFAULT_WEBHOOK_RETRY_SCHEDULE,
    DEFAULT_WEBHOOK_TIMEOUT,
    METER_ERROR_REPORT_WINDOW,
    Config,
)

LOG_LEVELS = ("debug", "info", "warning", "error")
_TRUE = ("1", "true", "yes", "on")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {port}")
    return port


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def _log_level(text: str) -> str:
    # A type rather than `choices`: argparse checks choices on flags only, not on env defaults.
    if text.lower() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return text.lower()


def _size(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if size < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {size}")
    return size


def _seed(text: str) -> int | None:
    if text == "":
        return None  # an empty environment variable: no seed
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the seed must be an integer, not {text!r}") from None


def _time(text: str) -> int | None:
    """Unix seconds, or an ISO 8601 date-time (UTC unless it names its offset)."""
    if text == "":
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (Unix seconds or ISO 8601, such as 2026-01-01T00:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _retry_schedule(text: str) -> tuple[float, ...]:
    """Comma-separated seconds before each retry, e.g. `1,2,4`; empty for no retries."""
    try:
        delays = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of seconds such as 1,2,4: {text!r}") from None
    if any(not 0 <= delay < float("inf") for delay in delays):
        raise argparse.ArgumentTypeError(f"retry delays must be finite, non-negative seconds: {text!r}")
    return delays


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return seconds


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    try:
        port_ok = (parts.port or 1) > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r}")
    return text


def _webhook_secret(text: str) -> str:
    from .domain.webhooks import SECRET_PREFIX  # noqa: PLC0415 (only this flag needs it)

    if not text.startswith(SECRET_PREFIX) or len(text) == len(SECRET_PREFIX):
        raise argparse.ArgumentTypeError(f"a webhook signing secret starts with {SECRET_PREFIX}: {text!r}")
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Flags override the `MOCKSTRIPE_*` environment variables (handy where no flags can be
    passed, such as a CI service container), which override the defaults."""
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="mockstripe", description="A local, stateful, Stripe-compatible API server."
    )
    parser.add_argument(
        "--host",
        default=env("MOCKSTRIPE_HOST", DEFAULT_HOST),
        help="interface to listen on; env MOCKSTRIPE_HOST (default %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=env("MOCKSTRIPE_PORT", str(DEFAULT_PORT)),  # a string, so `_port` checks it too
        help="port to listen on, 0 for any free one (the URL printed at start tells which); "
        "env MOCKSTRIPE_PORT (default %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        type=_log_level,
        metavar="{" + ",".join(LOG_LEVELS) + "}",
        default=env("MOCKSTRIPE_LOG_LEVEL", "info"),
        help="debug also logs every request; env MOCKSTRIPE_LOG_LEVEL (default %(default)s)",
    )
    parser.add_argument(
        "--strict-meter-events",
        action="store_true",
        default=env("MOCKSTRIPE_STRICT_METER_EVENTS", "").lower() in _TRUE,
        help="reject meter events Stripe would accept and drop later (unknown meter, customer, ...); "
        "env MOCKSTRIPE_STRICT_METER_EVENTS=1",
    )
    parser.add_argument(
        "--admin-token",
        default=env("MOCKSTRIPE_ADMIN_TOKEN") or None,
        help="require `Authorization: Bearer TOKEN` on /_mock/reset (for a server others can reach); "
        "env MOCKSTRIPE_ADMIN_TOKEN (default: none needed)",
    )
    parser.add_argument(
        "--max-accounts",
        type=_positive,
        default=env("MOCKSTRIPE_MAX_ACCOUNTS") or None,
        metavar="N",
        help="keep at most N accounts (API keys, and connected accounts under them), forgetting the "
        "least recently used; env MOCKSTRIPE_MAX_ACCOUNTS (default: no limit)",
    )
    parser.add_argument(
        "--meter-error-report-window",
        type=_seconds,
        metavar="SECONDS",
        default=env("MOCKSTRIPE_METER_ERROR_REPORT_WINDOW", str(METER_ERROR_REPORT_WINDOW)),
        help="dropped meter events are reported (as thin events) once per meter per window; "
        "env MOCKSTRIPE_METER_ERROR_REPORT_WINDOW (default %(default)s)",
    )
    parser.add_argument(
        "--webhook-retry-schedule",
        type=_retry_schedule,
        metavar="SECONDS,...",
        default=env("MOCKSTRIPE_WEBHOOK_RETRY_SCHEDULE", ",".join(f"{d:g}" for d in DEFAULT_WEBHOOK_RETRY_SCHEDULE)),
        help="seconds before each retry of a failed webhook, empty for none; "
        "env MOCKSTRIPE_WEBHOOK_RETRY_SCHEDULE (default %(default)s)",
    )
    parser.add_argument(
        "--webhook-timeout",
        type=_seconds,
        metavar="SECONDS",
        default=env("MOCKSTRIPE_WEBHOOK_TIMEOUT", f"{DEFAULT_WEBHOOK_TIMEOUT:g}"),
        help="how long a receiver has to answer a webhook; env MOCKSTRIPE_WEBHOOK_TIMEOUT (default %(default)s)",
    )
    parser.add_argument(
        "--forward-to",
        type=_http_url,
        metavar="URL",
        default=env("MOCKSTRIPE_FORWARD_TO") or None,
        help="also send every account's events to URL, like `stripe listen --forward-to`; "
        "env MOCKSTRIPE_FORWARD_TO",
    )
    parser.add_argument(
        "--webhook-secret",
        type=_webhook_secret,
        metavar="WHSEC",
        default=env("MOCKSTRIPE_WEBHOOK_SECRET") or None,
        help="the secret --forward-to signs with (whsec_...; generated and printed if not given); "
        "env MOCKSTRIPE_WEBHOOK_SECRET",
    )
    parser.add_argument(
        "--request-log-size",
        type=_size,
        default=env("MOCKSTRIPE_REQUEST_LOG_SIZE", str(DEFAULT_REQUEST_LOG_SIZE)),
        metavar="N",
        help="requests each account's log (/_mock/requests, the dashboard) keeps, 0 for none; "
        "env MOCKSTRIPE_REQUEST_LOG_SIZE (default %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=env("MOCKSTRIPE_SEED", ""),
        metavar="N",
        help="make ids, secrets and tokens reproducible from this integer; env MOCKSTRIPE_SEED",
    )
    parser.add_argument(
        "--freeze-time",
        type=_time,
        default=env("MOCKSTRIPE_FREEZE_TIME", ""),
        metavar="T",
        help="every account's clock stands at T (Unix seconds or ISO 8601) until moved with "
        "POST /_mock/clock/advance; env MOCKSTRIPE_FREEZE_TIME",
    )
    parser.add_argument(
        "--rate-limit",
        action="store_true",
        default=env("MOCKSTRIPE_RATE_LIMIT", "").lower() in _TRUE,
        help="answer 429 beyond Stripe's test-mode rates (25 requests/s per account); "
        "env MOCKSTRIPE_RATE_LIMIT=1",
    )
    parser.add_argument(
        "--strict-endpoints",
        action="store_true",
        default=env("MOCKSTRIPE_STRICT_ENDPOINTS", "").lower() in _TRUE,
        help="answer only the endpoints built by hand: the spec's other operations 404 instead of "
        "answering generically; env MOCKSTRIPE_STRICT_ENDPOINTS=1",
    )
    parser.add_argument(
        "--data-dir",
        metavar="PATH",
        default=env("MOCKSTRIPE_DATA_DIR") or None,
        help="keep the state in PATH (created if missing), so that it survives a restart; "
        "env MOCKSTRIPE_DATA_DIR (default: in memory only)",
    )
    parser.add_argument(
        "--endpoints",
        nargs="?",
        const="-",
        metavar="MARKDOWN_FILE",
        help="print the table of supported endpoints and exit; given a Markdown file (README.md), "
        "rewrite the table between its endpoint markers instead",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.endpoints:
        return _endpoints(args.endpoints)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if args.forward_to and not args.webhook_secret:
        from .domain.webhooks import new_secret  # noqa: PLC0415

        args.webhook_secret = new_secret()
    config = Config(
        host=args.host,
        port=args.port,
        strict_meter_events=args.strict_meter_events,
        log_level=args.log_level,
        admin_token=args.admin_token,
        max_accounts=args.max_accounts,
        meter_error_report_window=args.meter_error_report_window,
        webhook_retry_schedule=args.webhook_retry_schedule,
        webhook_timeout=args.webhook_timeout,
        forward_to=args.forward_to,
        webhook_secret=args.webhook_secret if args.forward_to else None,
        request_log_size=args.request_log_size,
        seed=args.seed,
        freeze_time=args.freeze_time,
        rate_limit=args.rate_limit,
        strict_endpoints=args.strict_endpoints,
        data_dir=args.data_dir,
    )
    return asyncio.run(serve(config))


async def serve(config: Config) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit code."""
    from .collector import Collector  # noqa: PLC0415 (as below)
    from .server import base_url, start  # noqa: PLC0415 (keeps `--help` and `--endpoints` quick)

    loop = asyncio.get_running_loop()
    stopped_by: asyncio.Future[str] = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Installed before the URL is printed, so a signal sent as soon as it is seen stops cleanly.
        loop.add_signal_handler(sig, _settle, stopped_by, sig.name)
    try:
        runner, port = await start(config)
    except OSError as error:
        if error.filename is not None:  # the data directory
            print(f"mockstripe: cannot use {error.filename}: {_reason(error)}", file=sys.stderr)
        else:
            print(f"mockstripe: cannot listen on {config.host}:{config.port}: {_reason(error)}", file=sys.stderr)
        return 1
    # This process is the server's own: keep the collector off the store.
    collector = Collector(lambda: runner.server.requests_count if runner.server else 0)
    collector.start()
    freezing = asyncio.create_task(collector.run())
    print(f"mockstripe listening on {base_url(config.host, port)}", flush=True)
    if config.forward_to:
        print(f"Forwarding events to {config.forward_to}; webhook signing secret {config.webhook_secret}", flush=True)
    signal_name = await stopped_by
    freezing.cancel()
    await runner.cleanup()
    print(f"mockstripe stopped ({signal_name})", flush=True)
    return 0


def _settle(future: asyncio.Future[str], value: str) -> None:
    if not future.done():
        future.set_result(value)


def _reason(error: OSError) -> str:
    """`address already in use` rather than asyncio's long wording; resolver errors as they are."""
    if error.errno is not None and error.errno > 0:
        return os.strerror(error.errno).lower()
    return error.strerror or str(error)


def _endpoints(destination: str) -> int:
    from .app import default_areas  # noqa: PLC0415 (only this path needs the route table)
    from .routing import markdown_table, splice_table  # noqa: PLC0415 (as above)

    table = markdown_table(default_areas())
    if destination == "-":
        print(table)
        return 0
    try:
        with open(destination, encoding="utf-8") as file:
            markdown = file.read()
        updated = splice_table(markdown, table)
        with open(destination, "w", encoding="utf-8") as file:
            file.write(updated)
    except (OSError, ValueError) as error:
        print(f"mockstripe: cannot update {destination}: {error}", file=sys.stderr)
        return 1
    print(f"mockstripe: updated the endpoint table in {destination}")
    return 0
