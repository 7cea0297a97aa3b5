"""Serving: run the app on a socket, in the foreground or in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Iterator

from aiohttp import web

from .app import create_app
from .config import Config


async def start(config: Config) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (to clean up) and the bound port (useful with port 0)."""
    runner = web.AppRunner(create_app(config), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, reuse_address=True)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


@contextlib.contextmanager
def serve_in_thread(config: Config | None = None) -> Iterator[str]:
    """Serve on a free port (unless `config` names one) in a background thread; yields the base URL."""
    config = config or Config(port=0)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    result: dict[str, object] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            result["runner"], result["port"] = loop.run_until_complete(start(config))
        except BaseException as error:  # surfaced to the caller below
            result["error"] = error
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(result["runner"].cleanup())  # type: ignore[attr-defined]
        loop.close()

    thread = threading.Thread(target=run, name="mockstripe", daemon=True)
    thread.start()
    started.wait()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    try:
        yield f"http://{config.host}:{result['port']}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
