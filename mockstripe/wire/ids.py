"""Object ids in Stripe's formats: prefix, length and the leading `1` of newer ids.

Their random parts come from a generator seeded by the OS, or, on a server started with a seed, from
the byte source of the account the current request acts for (see `drawing_from`), so the same calls
give the same ids.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import string
from contextvars import ContextVar
from typing import Callable, Iterator

_ALPHABET = string.ascii_letters + string.digits
# Maps each random byte to an id character: os.urandom + translate is several times faster
# than random.choices on this hot path. The slight skew towards the first characters does not
# matter for ids that only need to be unique and look like Stripe's.
_BYTE_TO_CHAR = bytes(ord(_ALPHABET[i % len(_ALPHABET)]) for i in range(256))
_UPPER = string.ascii_uppercase + string.digits
_BYTE_TO_UPPER = bytes(ord(_UPPER[i % len(_UPPER)]) for i in range(256))

# prefix -> (fixed head after the prefix, random tail length), as seen on Stripe's objects.
_FORMATS: dict[str, tuple[str, int]] = {
    "cus": ("", 14),
    "prod": ("", 14),
    "price": ("1", 23),
    "mtr_test": ("61", 30),
    "mtrusg": ("", 24),
    "sub": ("1", 23),
    "si": ("", 14),
    "in": ("1", 23),
    "il": ("1", 23),
    "il_tmp": ("1", 23),
    "upcoming_in": ("1", 23),
    "ii": ("1", 23),
    "evt": ("1", 23),
    "clock": ("1", 23),
    "bmes": ("61", 30),
    "mtr_event_adj": ("61", 30),
    "req": ("", 14),
    "pm": ("1", 23),
    "pi": ("3", 23),
    "ch": ("3", 23),
    "re": ("3", 23),
    "txn": ("3", 23),
    "inpay": ("1", 23),
    "fault": ("", 14),
    "alrt": ("61", 30),
    "evt_test": ("65", 40),
    "ed_test": ("61", 40),
    "whsec": ("", 32),
    "credgr_test": ("61", 30),
    "cbtxn_test": ("61", 30),
    "we": ("1", 23),
    "cs_test": ("a1", 58),
    "li": ("1", 23),
    "bpc": ("1", 23),
    "bps": ("1", 23),
    "promo": ("1", 23),
    "di": ("1", 23),
    "txr": ("1", 23),
    "sub_sched": ("1", 23),
}

# n -> n random bytes.
ByteSource = Callable[[int], bytes]

# Ids need to be unique, not secret: a generator seeded once by the OS gives their bytes several
# times faster than a system call per id (`os.urandom`), which was a measurable share of a request.
unseeded_source: ByteSource = random.Random(os.urandom(32)).randbytes

# The source of the current request's account; `unseeded_source` unless a seeded account set its own.
_SOURCE: ContextVar[ByteSource] = ContextVar("mockstripe_id_source", default=unseeded_source)


def seeded_source(seed: int, scope: str) -> ByteSource:
    """Reproducible bytes from `seed` and `scope` (which account, or the server's request ids)."""
    return random.Random(f"{seed}/{scope}").randbytes


@contextlib.contextmanager
def drawing_from(source: ByteSource) -> Iterator[None]:
    """Draw the ids made inside (in this task) from `source`."""
    token = _SOURCE.set(source)
    try:
        yield
    finally:
        _SOURCE.reset(token)


def random_tail(length: int) -> str:
    return _SOURCE.get()(length).translate(_BYTE_TO_CHAR).decode("ascii")


def random_upper(length: int) -> str:
    """Upper-case letters and digits, as in a customer's `invoice_prefix`."""
    return _SOURCE.get()(length).translate(_BYTE_TO_UPPER).decode("ascii")


def new_id(prefix: str) -> str:
    head, length = _FORMATS[prefix]
    return f"{prefix}_{head}{random_tail(length)}"


def stable_id(prefix: str, *parts: object) -> str:
    """An id in `prefix`'s format derived from `parts`, so an object recomputed on each request
    (a meter event summary) keeps its id and can serve as a pagination cursor."""
    head, length = _FORMATS[prefix]
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=length).digest()
    return f"{prefix}_{head}{digest.translate(_BYTE_TO_CHAR).decode('ascii')}"


def stable_id_like(example: str, *parts: object) -> str:
    """An id with the prefix and length of `example`, derived from `parts`."""
    prefix, _, tail = example.rpartition("_")
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=len(tail)).digest()
    return f"{prefix}_{digest.translate(_BYTE_TO_CHAR).decode('ascii')}"


def request_id(source: ByteSource = unseeded_source) -> str:
    """A `Request-Id`: drawn before the request's account is known, so from the server's source."""
    return "req_" + source(14).translate(_BYTE_TO_CHAR).decode("ascii")
