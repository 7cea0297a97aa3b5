"""Prices as billing reads them: the tiers kept beside a tiered price."""

from __future__ import annotations

from typing import Any

from ..store import Account


def price_tiers(account: Account, price_id: str) -> list[dict[str, Any]] | None:
    """The rendered tiers of a tiered price (`up_to: None` is the last, unbounded one), else None."""
    tiers = account.collection("price").private.get(price_id, {}).get("tiers")
    return None if tiers is None else [dict(tier) for tier in tiers]
