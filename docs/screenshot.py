"""Makes docs/dashboard.png, the README's picture of the dashboard: the usage-based billing guide's
meter on a seeded server, shown in Debian's Chromium (needs playwright and chromium, as the
browser tests do).

    python -m docs.screenshot   (from the repository root)
"""

from __future__ import annotations

from pathlib import Path

import stripe
from playwright.sync_api import sync_playwright

from conformance.guide_params import subscribe
from mockstripe.config import Config
from mockstripe.dashboard import token
from mockstripe.server import serve_in_thread
from mockstripe.store import Account

KEY = "sk_test_dashboard_screenshot"
START = 1_767_225_600  # 2026-01-01T00:00:00Z
HOUR = 3600


def guide(client: stripe.StripeClient) -> str:
    """The guide's meter with a day of hourly usage before START."""
    subscribed = subscribe(client, START)
    meter, customer = subscribed.meter, subscribed.customer
    for hour in range(24):
        value = 25 + (hour * 37) % 90
        client.v1.billing.meter_events.create(
            {
                "event_name": "alpaca_ai_tokens",
                "payload": {"stripe_customer_id": customer.id, "value": str(value)},
                "timestamp": START - 24 * HOUR + hour * HOUR,
            }
        )
    return meter.id


def main() -> None:
    out = Path(__file__).resolve().parent / "dashboard.png"
    with serve_in_thread(Config(port=0, seed=1, freeze_time=START)) as url:
        meter_id = guide(stripe.StripeClient(KEY, base_addresses={"api": url}))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1100, "height": 430})
            page.goto(f"{url}/_mock/dashboard/{token(Account(key=KEY))}/meters/{meter_id}")
            page.screenshot(path=str(out))
            browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
