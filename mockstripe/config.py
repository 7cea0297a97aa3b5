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


@dataclass(frozen=True)
class Config:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    # Reject meter events Stripe would accept and drop asynchronously (unknown meter, customer, ...).
    strict_meter_events: bool = False
    log_level: str = "info"
    meter_error_report_window: float = METER_ERROR_REPORT_WINDOW
