"""billing-e2e's built-in scenarios, unchanged, against mockstripe: its Runner takes any
`stripe.StripeClient`, so it gets one whose API base is the session's server (with every response
held to the SDK's declared shapes), and plays each scenario file as shipped in the package."""

from __future__ import annotations

from importlib.resources import files

import pytest
import stripe
from billing_e2e.runner import Runner
from billing_e2e.scenario import Config, load_scenario

SCENARIOS = ("renewal", "failed-renewal", "cancel-at-period-end", "signup-card-problems", "plan-change")


def _price(client: stripe.StripeClient, name: str, unit_amount: int) -> str:
    return client.v1.prices.create(
        {"currency": "usd", "unit_amount": unit_amount, "recurring": {"interval": "month"}, "product_data": {"name": name}}
    ).id


@pytest.mark.parametrize("name", SCENARIOS)
def test_builtin_scenario_passes(name: str, stripe_client: stripe.StripeClient, stripe_api_key: str) -> None:
    prices = {"monthly_price": _price(stripe_client, "Starter", 1000), "upgrade_price": _price(stripe_client, "Business", 3000)}
    scenario = load_scenario(str(files("billing_e2e") / "scenarios" / f"{name}.yml"))
    result = Runner(Config(stripe_key=stripe_api_key, vars=prices), stripe_client).run(scenario)
    report = "\n".join(f"{'ok' if step.passed else 'FAILED'} {step.label}: {step.detail}" for step in result.steps)
    assert result.passed, f"{report}\n{result.errors}"
    # The run deletes its test clock, and with it the customer.
    assert stripe_client.v1.test_helpers.test_clocks.list().data == []
