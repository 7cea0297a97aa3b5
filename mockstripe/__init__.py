"""mockstripe: a local, stateful, Stripe-compatible API server.

    from mockstripe import serve_in_thread

    with serve_in_thread() as url:  # a free port, in a background thread
        client = stripe.StripeClient("sk_test_123", base_addresses={"api": url, "meter_events": url})

The names below are imported on first use, so `import mockstripe` (which pytest does for the
plugin in every session) does not pull in the web server.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Config", "__version__", "create_app", "serve_in_thread"]

if TYPE_CHECKING:
    from .app import create_app
    from .config import Config
    from .server import serve_in_thread

_HOMES = {"Config": ".config", "create_app": ".app", "serve_in_thread": ".server"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mockstripe' has no attribute {name!r}")
    return getattr(import_module(home, __name__), name)
