"""Tools for developing against mockstripe: request log, fault injection, rate limits."""
