"""mockstripe: a local, stateful, Stripe-compatible API server."""

__version__ = "0.1.0"
