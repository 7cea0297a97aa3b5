"""A throwaway Django project on SQLite with dj-stripe installed, pointed at the mockstripe server
that mockstripe's pytest plugin starts for the session (`mockstripe_url`). dj-stripe 2.11 needs
stripe-python < 16, so this directory runs in a venv of its own (see `.ci/run`), not in the main
test suite."""

from __future__ import annotations

import secrets

import django
import pytest
import stripe
from django.conf import settings
from django.core.management import call_command


@pytest.fixture(scope="session")
def api_key(mockstripe_url: str) -> str:
    key = "sk_test_djstripe" + secrets.token_hex(8)
    # dj-stripe calls Stripe through the module-level client, from its migrations on: never let
    # it reach for api.stripe.com.
    stripe.api_base = mockstripe_url
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "djstripe"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        # Tables straight from the models (`--run-syncdb`): replaying dj-stripe's migrations takes minutes.
        MIGRATION_MODULES={"djstripe": None},
        USE_TZ=True,
        STRIPE_LIVE_MODE=False,
        STRIPE_TEST_SECRET_KEY=key,
        DJSTRIPE_FOREIGN_KEY_TO_FIELD="id",
        DJSTRIPE_WEBHOOK_SECRET="whsec_unused",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    return key
