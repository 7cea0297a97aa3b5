"""Server settings, shared by the CLI, the embedding helper and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12111
DEFAULT_API_VERSION = "2026-10-28.endive"
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Config:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    # Reject meter events Stripe would accept and drop asynchronously (unknown meter, customer, ...).
    strict_meter_events: bool = False
    log_level: str = "info"
    # Answer only the hand-built endpoints: the spec's other operations 404 instead of answering
    # generically, so a suite cannot pass by accident on a plausible answer.
    strict_endpoints: bool = False
