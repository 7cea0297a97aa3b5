"""Server settings, shared by the CLI, the embedding helper and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12111
DEFAULT_API_VERSION = "2026-10-28.endive"
MAX_BODY_BYTES = 1024 * 1024
# How long a stopping server lets in-flight requests finish (twice over at most: aiohttp waits, then
# cancels and waits again), so SIGTERM exits well within 2 s.
SHUTDOWN_GRACE_SECONDS = 0.5


@dataclass(frozen=True)
class Config:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    # Reject meter events Stripe would accept and drop asynchronously (unknown meter, customer, ...).
    strict_meter_events: bool = False
    log_level: str = "info"
    # When set, `/_mock/reset` requires `Authorization: Bearer <admin_token>` (for a server others can reach).
    admin_token: str | None = None
    # At most this many accounts (key and connected account pairs) are kept; the least recently used
    # one is forgotten for a new one. None: no limit.
    max_accounts: int | None = None
