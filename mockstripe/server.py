"""Serving: run the app on a socket, in the foreground or in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Iterator

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from .app import create_app, transport_error
from .config import SHUTDOWN_GRACE_SECONDS, Config

log = logging.getLogger("mockstripe")


class _StripeShapedConnection(RequestHandler):
    """A connection that answers requests aiohttp cannot parse (oversized lines or headers, raw
    bytes in the path, an unknown method) with Stripe's JSON instead of echoing them as text."""

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        log.debug("request from %s not parsed or not finished: %r", request.remote, exc)
        if request.writer.output_size > 0:
            raise ConnectionError("the response has started: no error can be sent")
        return transport_error(status, exc)


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _StripeShapedConnection(self, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp takes no connection class as a parameter: swap the server's for one that makes ours.
        server.__class__ = _Server
        return server


async def start(config: Config) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (to clean up) and the bound port (useful with port 0)."""
    # One line per request only when debugging: a busy test suite would otherwise flood the log.
    access_log = logging.getLogger("mockstripe.access") if config.log_level == "debug" else None
    # In-flight requests get SHUTDOWN_GRACE_SECONDS to finish on cleanup; a body still arriving then
    # is abandoned rather than waited for (aiohttp's default would wait a minute).
    runner = _Runner(
        create_app(config), access_log=access_log, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE_SECONDS
    )
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, reuse_address=True)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    port = runner.addresses[0][1]
    return runner, port


def base_url(host: str, port: int) -> str:
    """`http://host:port`, with IPv6 hosts in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.contextmanager
def serve_in_thread(config: Config | None = None) -> Iterator[str]:
    """Serve in a background thread of this process, on a free port unless `config` names one;
    yields the base URL and stops the server (and its thread) on exit.

    Each call is a separate server with its own accounts. For custom settings on a free port,
    pass `Config(port=0, ...)`.
    """
    config = config or Config(port=0)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner: web.AppRunner | None = None
    port = 0
    failure: BaseException | None = None

    def run() -> None:
        nonlocal runner, port, failure
        asyncio.set_event_loop(loop)
        try:
            runner, port = loop.run_until_complete(start(config))
        except BaseException as error:  # re-raised in the caller's thread below
            failure = error
            loop.close()
            return
        finally:
            started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="mockstripe", daemon=True)
    thread.start()
    started.wait()
    if failure is not None:
        thread.join()
        raise failure
    try:
        yield base_url(config.host, port)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
