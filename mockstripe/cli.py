"""The `mockstripe` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from .config import DEFAULT_HOST, DEFAULT_PORT, Config
from .server import start


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mockstripe", description="A local, stateful, Stripe-compatible API server."
    )
    parser.add_argument("--host", default=os.environ.get("MOCKSTRIPE_HOST", DEFAULT_HOST))
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("MOCKSTRIPE_PORT", DEFAULT_PORT)),
        help="port to listen on; 0 picks a free one (default %(default)s)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--strict-meter-events",
        action="store_true",
        help="reject meter events Stripe would accept and drop later (unknown meter, customer, ...)",
    )
    parser.add_argument(
        "--endpoints", action="store_true", help="print the table of supported endpoints and exit"
    )
    return parser.parse_args(argv)


async def serve(config: Config) -> None:
    runner, port = await start(config)
    print(f"mockstripe listening on http://{config.host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    print("mockstripe stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.endpoints:
        from .app import default_areas  # noqa: PLC0415 (only this path needs the table)
        from .routing import markdown_table  # noqa: PLC0415

        print(markdown_table(default_areas()))
        return 0
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    config = Config(
        host=args.host, port=args.port, strict_meter_events=args.strict_meter_events, log_level=args.log_level
    )
    try:
        asyncio.run(serve(config))
    except OSError as error:
        print(f"mockstripe: cannot listen on {config.host}:{config.port}: {error}", file=sys.stderr)
        return 1
    return 0
