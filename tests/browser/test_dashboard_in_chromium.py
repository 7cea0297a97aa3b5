"""The dashboard in a real browser: Playwright driving Debian's Chromium.

Neither is optional: without them these tests fail, never skip (`.ci/run` installs both).
A failing test leaves a screenshot of the page in `browser-screenshots/`.
"""

from __future__ import annotations

import re


def masked(key: str) -> str:
    return "sk_test_" + "*" * (len(key) - len("sk_test_") - 4) + key[-4:]


def test_the_guide_in_the_dashboard(page, guide, mockstripe_url, stripe_api_key):
    from playwright.sync_api import expect  # noqa: PLC0415

    page.goto(mockstripe_url + "/", wait_until="domcontentloaded")
    page.get_by_role("link", name="dashboard").click()
    page.get_by_role("link", name=masked(stripe_api_key), exact=True).click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page.get_by_text(guide.customer.id)).to_be_visible()

    # The meter's chart shows the guide's 25 tokens.
    page.get_by_role("link", name="Meters", exact=True).click()
    page.get_by_role("link", name=guide.meter.id).click()
    usage = page.locator(f'.usage[data-customer="{guide.customer.id}"]')
    expect(usage.locator(".total")).to_have_text("25")
    expect(usage.locator("svg rect.bar")).to_have_count(1)
    expect(usage.locator("svg rect.bar")).to_have_attribute("data-value", "25")
    assert usage.locator("svg rect.bar").bounding_box()["height"] > 100  # the only bar is full height

    # Advance the test clock a month from its form: the usage is billed on a new invoice.
    page.get_by_role("link", name="Invoices", exact=True).click()
    before = page.locator("tbody tr").count() if page.locator("table").count() else 0
    page.get_by_role("link", name="Test clocks", exact=True).click()
    page.get_by_label("Advance to (UTC)").fill("2026-02-01T00:00")
    page.get_by_role("button", name="Advance").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Advanced {guide.clock.id}")
    expect(page.locator(".frozen-time")).to_have_text("2026-02-01 00:00:00")

    page.get_by_role("link", name="Invoices", exact=True).click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(before + 1)
    newest = rows.first
    expect(newest).to_contain_text("0.04 USD")
    newest.get_by_role("link", name=re.compile(r"^in_")).click()

    expect(page.get_by_role("heading", name=re.compile(r"^Invoice in_"))).to_be_visible()
    line = page.locator("tbody tr", has_text="Alpaca AI tokens").last
    expect(line).to_contain_text("25 × Alpaca AI tokens")
    expect(line).to_contain_text("0.04 USD")


def test_the_request_log_in_the_dashboard(page, stripe_client, mockstripe_url, stripe_api_key):
    from playwright.sync_api import expect  # noqa: PLC0415

    stripe_client.v1.customers.create({"name": "Ada"})
    try:
        stripe_client.v1.customers.retrieve("cus_missing")
    except Exception:
        pass

    page.goto(mockstripe_url + "/_mock/dashboard", wait_until="domcontentloaded")
    page.get_by_role("link", name=masked(stripe_api_key), exact=True).click()
    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.locator("tbody tr")).to_have_count(2)

    page.get_by_label("Status").fill("4xx")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    row = page.locator("tbody tr")
    expect(row).to_contain_text("No such customer: 'cus_missing'")
    row.get_by_text("body and answer").click()
    expect(row.locator("pre").last).to_contain_text('"code": "resource_missing"')
