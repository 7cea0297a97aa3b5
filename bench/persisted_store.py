"""Fill a data directory (`--data-dir`) with N customers, as a server that stored them through
`POST /v1/customers` would leave it after its last snapshot: the customers, and the events the
account keeps of them. Building them in process takes seconds where sending them takes minutes.

    python bench/persisted_store.py DATA_DIR N
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from mockstripe.app import STATE, create_app
from mockstripe.config import Config
from mockstripe.persistence import write_snapshot
from mockstripe.wire.ids import new_id

KEY = "sk_test_bench_restart"
# A customer as `POST /v1/customers` with the bench's form body makes it (id and time replaced).
TEMPLATE = {
    "id": "", "object": "customer", "address": None, "balance": 0, "business_name": None, "created": 0,
    "currency": None, "customer_account": None, "default_source": None, "delinquent": False,
    "description": None, "discount": None, "email": "jenny@example.com", "individual_name": None,
    "invoice_prefix": "", "invoice_settings": {
        "custom_fields": None, "default_payment_method": None, "footer": None, "rendering_options": None,
    },
    "livemode": False, "metadata": {}, "name": "Jenny Rosen", "next_invoice_sequence": 1, "phone": None,
    "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None,
}


def main() -> None:
    directory, count = Path(sys.argv[1]), int(sys.argv[2])
    gc.disable()
    app = create_app(Config(data_dir=str(directory)))
    state = app[STATE]
    assert state.journal is not None
    account = state.store.account(KEY)
    account.journal = None  # written as one snapshot below, not journaled one by one
    now = account.now()
    for n in range(count):
        customer = {
            **TEMPLATE,
            "id": new_id("cus"),
            "created": now,
            "invoice_prefix": f"{n:08X}",
            "invoice_settings": dict(TEMPLATE["invoice_settings"]),  # type: ignore[arg-type]
            "metadata": {},
            "preferred_locales": [],
        }
        account.create(customer)
    state.journal.close()
    write_snapshot(directory, state.journal.sequence + 1, state.store)
    print(state.store.object_count())


if __name__ == "__main__":
    main()
