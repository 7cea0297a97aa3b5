"""The pytest plugin, run in child pytest sessions: one account per test, xdist, MOCKSTRIPE_URL."""

from __future__ import annotations

import json

import pytest
import stripe

from mockstripe import serve_in_thread

pytest_plugins = ["pytester"]

# Child sessions load the plugin through its `pytest11` entry point, as users' sessions do. They
# run in this process (faster) except under xdist, whose workers are processes anyway; without
# hypothesis's plugin, which would re-import hypothesis in each.
CHILD_ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-o", "asyncio_default_fixture_loop_scope=function")
ISOLATION = """
    import json, pathlib

    import pytest
    import stripe

    SEEN = pathlib.Path(__file__).with_name("seen.jsonl")

    @pytest.mark.parametrize("name", ["first", "second", "third", "fourth"])
    def test_own_account(stripe_client, stripe_api_key, mockstripe_url, name, worker_id):
        assert stripe_client.v1.customers.list().data == []
        customer = stripe_client.v1.customers.create({"name": name})
        for line in SEEN.read_text().splitlines() if SEEN.exists() else []:
            earlier = json.loads(line)
            with pytest.raises(stripe.InvalidRequestError) as missing:
                stripe_client.v1.customers.retrieve(earlier["customer"])
            assert missing.value.http_status == 404
        with SEEN.open("a") as seen:
            seen.write(json.dumps({"key": stripe_api_key, "url": mockstripe_url, "worker": worker_id,
                                   "customer": customer.id}) + "\\n")
"""


@pytest.fixture
def child(pytester, monkeypatch, source_env):
    """A pytester whose child sessions import the mockstripe under test, with no outside server."""
    monkeypatch.setenv("PYTHONPATH", source_env["PYTHONPATH"])
    monkeypatch.delenv("MOCKSTRIPE_URL", raising=False)
    return pytester


def seen(pytester) -> list[dict[str, str]]:
    return [json.loads(line) for line in (pytester.path / "seen.jsonl").read_text().splitlines()]


def test_each_test_gets_its_own_empty_account(child):
    child.makepyfile(test_isolation=ISOLATION)

    result = child.runpytest(*CHILD_ARGS)

    result.assert_outcomes(passed=4)
    runs = seen(child)
    assert len({run["key"] for run in runs}) == 4
    assert all(run["key"].startswith("sk_test_") for run in runs)
    assert len({run["url"] for run in runs}) == 1  # one server for the session


def test_each_xdist_worker_starts_its_own_server(child):
    child.makepyfile(test_isolation=ISOLATION)

    result = child.runpytest_subprocess(*CHILD_ARGS, "-n", "2")

    result.assert_outcomes(passed=4)
    runs = seen(child)
    url_of = {run["worker"]: run["url"] for run in runs}
    assert sorted(url_of) == ["gw0", "gw1"]
    assert url_of["gw0"] != url_of["gw1"]
    assert len({run["key"] for run in runs}) == 4


def test_mockstripe_url_points_the_session_at_an_outside_server(child, monkeypatch):
    child.makepyfile(
        test_outside="""
        import json

        def test_customer(stripe_client, stripe_api_key, mockstripe_url):
            customer = stripe_client.v1.customers.create({"name": "Outside"})
            with open("made.json", "w") as made:
                made.write(json.dumps([mockstripe_url, stripe_api_key, customer.id]))
        """
    )
    with serve_in_thread() as url:
        monkeypatch.setenv("MOCKSTRIPE_URL", url + "/")

        child.runpytest(*CHILD_ARGS).assert_outcomes(passed=1)

        session_url, key, customer_id = json.loads((child.path / "made.json").read_text())
        assert session_url == url
        outside = stripe.StripeClient(key, base_addresses={"api": url})
        assert outside.v1.customers.retrieve(customer_id).name == "Outside"


# Records what the session's server does with a meter event for which no meter exists.
METER_EVENT_OUTCOME = """
    import pathlib
    import stripe

    def test_event_without_a_meter(stripe_client):
        event = {"event_name": "no_such_meter", "payload": {"stripe_customer_id": "cus_1", "value": "1"}}
        try:
            stripe_client.v1.billing.meter_events.create(event)
            outcome = "accepted"
        except stripe.InvalidRequestError as error:
            outcome = error.code
        pathlib.Path("outcome").write_text(outcome)
"""


@pytest.mark.parametrize(
    ("ini", "args", "outcome"),
    [
        ("", [], "accepted"),
        ("", ["--mockstripe-strict-meter-events"], "no_meter"),
        ("[pytest]\nmockstripe_strict_meter_events = true\n", [], "no_meter"),
    ],
)
def test_strict_meter_events_option_and_ini(child, ini, args, outcome):
    if ini:
        child.makeini(ini)
    child.makepyfile(test_strict=METER_EVENT_OUTCOME)

    child.runpytest(*CHILD_ARGS, *args).assert_outcomes(passed=1)

    assert (child.path / "outcome").read_text() == outcome


def test_the_server_settings_fixture_can_be_overridden(child):
    child.makeconftest(
        """
        import pytest
        from mockstripe import Config

        @pytest.fixture(scope="session")
        def mockstripe_config():
            return Config(host="localhost", port=0)
        """
    )
    child.makepyfile(
        test_override="""
        def test_url(mockstripe_url, stripe_client):
            assert mockstripe_url.startswith("http://localhost:")
            assert stripe_client.v1.customers.list().data == []
        """
    )

    child.runpytest(*CHILD_ARGS).assert_outcomes(passed=1)


WEBHOOKS = """
    import stripe

    def test_signup_sends_webhooks(stripe_client, stripe_webhooks):
        customer = stripe_client.v1.customers.create({"name": "Jenny"})
        stripe_client.v1.customers.update(customer.id, {"name": "Jenny Rosen"})

        created = stripe_webhooks.wait_for("customer.created")
        updated = stripe_webhooks.wait_for("customer.updated")
        assert isinstance(created, stripe.Event)
        assert created.data.object.id == customer.id
        assert updated.data.previous_attributes.name == "Jenny"
        assert [e.type for e in stripe_webhooks.received] == ["customer.created", "customer.updated"]
        assert stripe_webhooks.secret.startswith("whsec_")
        (endpoint,) = stripe_client.v1.webhook_endpoints.list().data
        assert endpoint.enabled_events == ["*"]

    def test_wait_for_fails_clearly_when_nothing_comes(stripe_client, stripe_webhooks):
        stripe_client.v1.customers.create({"name": "Jenny"})
        try:
            stripe_webhooks.wait_for("invoice.paid", timeout=0.3)
        except AssertionError as error:
            assert "no invoice.paid webhook within 0.3 s; received ['customer.created']" in str(error)
        else:
            raise AssertionError("wait_for returned")

    def test_each_test_receives_only_its_own_accounts_events(stripe_client, stripe_webhooks):
        stripe_client.v1.products.create({"name": "Mine"})
        assert stripe_webhooks.wait_for("product.created").data.object.name == "Mine"
        assert [e.type for e in stripe_webhooks.received] == ["product.created"]

    def test_events_without_a_receiver(stripe_client, stripe_events):
        customer = stripe_client.v1.customers.create({"name": "Jenny"})
        stripe_client.v1.customers.delete(customer.id)
        assert [e.type for e in stripe_events()] == ["customer.created", "customer.deleted"]
        assert [e.data.object.id for e in stripe_events(type="customer.deleted")] == [customer.id]
"""


def test_stripe_webhooks_receives_verified_events(child):
    child.makepyfile(test_signup_webhooks=WEBHOOKS)

    child.runpytest(*CHILD_ARGS).assert_outcomes(passed=4)
