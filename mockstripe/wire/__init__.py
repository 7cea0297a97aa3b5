"""Stripe's wire protocol: decoding, parameter specs, errors, ids, lists and expansion."""
