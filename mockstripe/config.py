"""Server settings, shared by the CLI, the embedding helper and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12111
DEFAULT_API_VERSION = "2026-10-28.endive"
MAX_BODY_BYTES = 1024 * 1024
# Seconds over which dropped meter events are gathered into one error report per meter. UNSURE:
# Stripe's window; about a minute matches what its reports show.
METER_ERROR_REPORT_WINDOW = 60.0
DEFAULT_REQUEST_LOG_SIZE = 1000
# How long a stopping server lets in-flight requests finish (twice over at most: aiohttp waits, then
# cancels and waits again), so SIGTERM exits well within 2 s.
SHUTDOWN_GRACE_SECONDS = 0.5

# A new snapshot of a persisted state (`--data-dir`) once its journal holds this much: replaying
# it on a restart then takes about a second.
SNAPSHOT_AFTER_BYTES = 64 * 1024 * 1024

# UNSURE: Stripe's sandbox retries a failed webhook 3 times over a few hours; a local server keeps
# that shape on a compressed schedule: seconds after each failed attempt before the next one.
DEFAULT_WEBHOOK_RETRY_SCHEDULE: tuple[float, ...] = (1.0, 2.0, 4.0)
# Seconds a receiver has to answer a webhook before the attempt counts as failed.
DEFAULT_WEBHOOK_TIMEOUT = 5.0


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
    meter_error_report_window: float = METER_ERROR_REPORT_WINDOW
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    # Like `stripe listen --forward-to`: every account's events also go to this URL, signed with
    # `webhook_secret`.
    forward_to: str | None = None
    webhook_secret: str | None = None
    # How many requests each account's log (`/_mock/requests`) keeps; 0 keeps none.
    request_log_size: int = DEFAULT_REQUEST_LOG_SIZE
    # Draw ids, secrets and tokens from this seed (per account, in the order accounts are first
    # used) instead of the OS's randomness.
    seed: int | None = None
    # Every account's clock stands at this Unix time until `/_mock/clock/advance` moves it.
    freeze_time: int | None = None
    # Answer 429 beyond Stripe's test-mode request rates (devtools/throttle.py).
    rate_limit: bool = False
    # Answer only the hand-built endpoints: the spec's other operations 404 instead of answering
    # generically, so a suite cannot pass by accident on a plausible answer.
    strict_endpoints: bool = False
    # Keep the state in this directory across restarts (`mockstripe/persistence.py`); None: in
    # memory only, nothing touches the disk.
    data_dir: str | None = None
    # A new snapshot once the journal holds this many bytes.
    snapshot_after_bytes: int = SNAPSHOT_AFTER_BYTES
