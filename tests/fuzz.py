"""A seeded request generator and a raw HTTP/1.1 client for the fuzz and fault suite (test_fuzz.py).

Requests are built from each endpoint's own parameter declaration, then bent: values of the wrong
type or out of range, odd bracket keys, deep nesting, huge indexes and counts, invalid
percent-encoding and UTF-8, JSON edge cases on /v2, odd headers. Faults go on connections of their
own: oversized and lying bodies, half-sent bodies, dropped connections.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_from_bytes

from mockstripe.routing import Endpoint
from mockstripe.wire import params as p

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection that sends raw bytes and reads one response."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, data: bytes) -> Reply:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(data)
        await self.writer.drain()
        reply = await read_reply(self.reader)
        if reply.headers.get("connection", "").lower() == "close":
            await self.close()
        return reply

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Reply(int(status_line.split()[1]), headers, body)


def request_bytes(method: str, target: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: fuzz"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body


# --- values -------------------------------------------------------------------------------------

ODD_STRINGS = [
    "", " ", "x" * 6000, "\x00", "é", "日本", "\u202e", "null", "true", "[]", "{}", "%", "&", "=",
    "1e400", "-0", "NaN", "0x10", "１２", "\ud800", "a\nb", "<script>", "'", '"', "\\",
]
ODD_INTEGERS = [
    "0", "-1", "1", "99999999", "100000000", "253402300799", "253402300800", str(2**31), str(2**62),
    str(2**63 - 1), str(2**63), str(-(2**63)), str(-(2**63) - 1), "9" * 25, "9" * 5000, "1.5", "1e3",
    "abc", "", " 1", "١٢", "+1", "0001",
]
ODD_DECIMALS = ["0", "0.5", "1.123456789012", "1.1234567890123", "99999999", "99999999.1", "1" * 30, "-1",
                "1e5", ".5", "5.", "NaN", "Infinity", "9" * 200]
ODD_TIMES = ["2024-06-01T12:00:00.000Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:01",
             "2024-02-30T00:00:00Z", "2024-06-01", "yesterday", "2024-06-01T12:00:00.1234567890123Z",
             "2024-06-01T25:00:00Z", "+002024-06-01T12:00:00Z"]


class Generator:
    """Seeded requests across `endpoints`; `ids` are the objects made so far, by type."""

    def __init__(self, seed: int, endpoints: list[Endpoint], keys: list[str]) -> None:
        self.rng = random.Random(seed)
        self.endpoints = endpoints
        self.keys = keys
        self.ids: dict[str, list[str]] = {}
        self.idempotency_keys = [f"idem-{n}" for n in range(20)]
        # Meter event session tokens by key, for the v2 stream (which takes no API key).
        self.session_tokens: dict[str, str] = {}

    def remember(self, object_type: str, object_id: str) -> None:
        known = self.ids.setdefault(object_type, [])
        if len(known) < 500:
            known.append(object_id)
        else:
            known[self.rng.randrange(500)] = object_id

    def some_id(self, object_type: str | None = None) -> str:
        rng = self.rng
        pool = self.ids.get(object_type or "") if object_type else None
        if not pool:
            pool = [i for ids in self.ids.values() for i in ids[:20]]
        roll = rng.random()
        if pool and roll < 0.8:
            return rng.choice(pool)
        if roll < 0.9:
            return rng.choice(["cus_nope", "price_x", "prod_", "sub_1", "mtr_0", "clock_x", "in_1", "evt_1"])
        return rng.choice(ODD_STRINGS)

    # A value for a parameter declaration, mostly valid, sometimes not.
    def value(self, spec: p.Param, depth: int = 0) -> Any:
        rng = self.rng
        if rng.random() < 0.03:
            return self.wrong_value(depth)
        if isinstance(spec, p.Hash):
            names = list(spec.fields)
            chosen = [n for n in names if spec.fields[n].required or rng.random() < 0.2]
            return {n: self.value(spec.fields[n], depth + 1) for n in chosen}
        if isinstance(spec, p.List):
            return [self.value(spec.item, depth + 1) for _ in range(rng.choice([0, 1, 1, 2, 3, 30]))]
        if isinstance(spec, p.Map):
            return {rng.choice(["k", "value", "stripe_customer_id", "x" * 41]): rng.choice(["1", "v", "x" * 501])
                    for _ in range(rng.choice([0, 1, 2, 51]))}
        if isinstance(spec, p.AnyOf):
            return self.value(rng.choice(spec.options), depth)
        if isinstance(spec, p.Enum):
            return rng.choice(spec.values) if rng.random() < 0.9 else rng.choice(ODD_STRINGS)
        if isinstance(spec, p.Literal):
            return spec.word
        if isinstance(spec, p.Boolean):
            return rng.choice(["true", "false", "true", "maybe"])
        if isinstance(spec, p.Integer):
            low = spec.minimum if spec.minimum is not None else 0
            high = spec.maximum if spec.maximum is not None else 10_000
            return str(rng.randint(low, min(high, low + 10_000))) if rng.random() < 0.7 else rng.choice(ODD_INTEGERS)
        if isinstance(spec, p.DecimalString):
            return rng.choice(["1", "0.25", "12.5"]) if rng.random() < 0.6 else rng.choice(ODD_DECIMALS)
        if isinstance(spec, p.Currency):
            return rng.choice(["usd", "usd", "EUR", "jpy", "xx", "us1"])
        if isinstance(spec, p.DateTime):
            return rng.choice(ODD_TIMES)
        if isinstance(spec, p.Ref):
            return self.some_id(spec.object_type)
        return rng.choice(["x", "fuzz", *ODD_STRINGS[:5]])

    def wrong_value(self, depth: int) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            return rng.choice(ODD_STRINGS)
        if roll < 0.5:
            return rng.choice(ODD_INTEGERS)
        if roll < 0.65 and depth < 30:
            return {"x": self.wrong_value(depth + 1)}
        if roll < 0.8 and depth < 30:
            return [self.wrong_value(depth + 1)]
        return ""

    # Encodings.
    def form(self, params: dict[str, Any]) -> str:
        pairs: list[tuple[str, str]] = []
        _flatten(params, "", pairs, self.rng)
        return "&".join(
            f"{quote(k, safe='[]', errors='surrogatepass')}={quote(str(v), safe='', errors='surrogatepass')}"
            for k, v in pairs
        )

    def bent_form(self, text: str) -> bytes:
        """The encoded form with something odd in it (or not)."""
        rng = self.rng
        roll = rng.random() * 2  # half the forms stay as they are
        extra = ""
        if roll < 0.1:
            extra = "metadata" + "[a]" * rng.choice([2, 19, 20, 21, 100, 490, 2000]) + "=1"
        elif roll < 0.2:
            extra = f"expand[{'1' * rng.choice([1, 6, 7, 30, 4301, 6000])}]=x"
        elif roll < 0.3:
            extra = rng.choice(["a[=1", "a]=1", "a[b]]=1", "[x]=1", "a[][]=1&a[][b]=2", "a[0]=1&a[2]=2",
                                "a=1&a[b]=2", "a[b]=1&a=2", "a[]=1&a[0]=2", "%=1", "a=%zz", "a=%C3%28",
                                "%5B%5D=1", "a[%5D=1", "&&&=&", "=", "a", "a==b", "items[0][price]=&items[1]=x"])
        elif roll < 0.35:
            return text.encode() + b"&name=\xff\xfe"
        elif roll < 0.38:
            return b"&".join([b"a%d=1" % i for i in range(rng.choice([100, 3000]))])
        if extra:
            return (text + "&" + extra if text else extra).encode()
        return text.encode()

    def json_body(self, params: dict[str, Any]) -> bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.7:
            return json.dumps(_typed(params, rng)).encode()
        return rng.choice([
            b"", b"[]", b"null", b"1", b'"x"', b"{", b"{}", b'{"a":NaN}', b'{"a":1e400}', b'{"a":' + b"9" * 5000 + b"}",
            b"[" * 5000 + b"]" * 5000, b'{"a":' * 600 + b"1" + b"}" * 600, b'{"events":[' + b"{}," * 200 + b"{}]}",
            b'{"event_name":"x","event_name":"y"}', b'{"payload":{"value":"\xff"}}', b'{"\\u0000":1}',
            b'{"event_name":"\\ud800","payload":{}}', b"\xef\xbb\xbf{}", b'{"timestamp":18446744073709551616}',
        ])

    def headers(self, key: str, v2: bool) -> dict[str, str]:
        rng = self.rng
        headers = {"Authorization": f"Bearer {key}"}
        roll = rng.random()
        if roll < 0.05:
            headers["Authorization"] = rng.choice(
                ["Bearer", "Bearer ", "Basic !!!", "Basic " + "QQ==", "Bearer pk_test_x", "Bearer sk_live_x",
                 "Digest x", "Bearer sk_test_" + "x" * 3000, f"Basic {key}"]
            )
        elif roll < 0.07:
            del headers["Authorization"]
        if rng.random() < 0.05:
            headers["Stripe-Version"] = rng.choice(["2024-06-20", "x", "2024-06-20.basil", "２０２４-06-20", ""])
        if rng.random() < 0.05:
            headers["Stripe-Account"] = rng.choice(["acct_1", "acct_2", "bogus", ""])
        if rng.random() < 0.1:
            headers["Idempotency-Key"] = rng.choice(self.idempotency_keys + ["k" * 300])
        if rng.random() < 0.03:
            headers["Content-Type"] = rng.choice(["text/plain", "multipart/form-data; boundary=x", "application/json"])
        return headers

    def request(self) -> tuple[Endpoint | None, str, dict[str, str], bytes]:
        """The next (endpoint, key, headers, request bytes): the endpoint is None for an unknown route."""
        rng = self.rng
        key = rng.choice(self.keys)
        if rng.random() < 0.03:
            method = rng.choice(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"])
            target = rng.choice(["/", "/v1", "/v1/nothing", "/v2/billing", "/v1/customers/cus_1/x", "/%ff",
                                 "/v1/customers/%2e%2e", "/v1/customers?" + "a=1&" * 100, "/_mock/../v1"])
            headers = self.headers(key, False)
            return None, key, headers, request_bytes(method, target, headers)
        endpoint = rng.choice(self.endpoints)
        path = endpoint.path
        while "{" in path:
            start, end = path.index("{"), path.index("}")
            path = path[:start] + quote(self.some_id(), safe="", errors="surrogatepass") + path[end + 1:]
        params = self.value(endpoint.params)
        params = params if isinstance(params, dict) else {"x": params}
        headers = self.headers(key, endpoint.is_v2)
        if endpoint.path.endswith("/meter_event_stream") and key in self.session_tokens and rng.random() < 0.85:
            headers["Authorization"] = f"Bearer {self.session_tokens[key]}"
        if endpoint.method == "GET" or endpoint.method == "DELETE":
            query = quote_from_bytes(self.bent_form(self.form(params)), safe="=&[]%")
            target = path + ("?" + query if query else "")
            return endpoint, key, headers, request_bytes(endpoint.method, target, headers)
        if endpoint.is_v2:
            headers.setdefault("Content-Type", JSON_TYPE)
            body = self.json_body(params)
        else:
            headers.setdefault("Content-Type", FORM_TYPE)
            body = self.bent_form(self.form(params))
        return endpoint, key, headers, request_bytes("POST", path, headers, body)

    def faults(self, key: str) -> Iterator[tuple[str, bytes, bool]]:
        """Requests that go wrong on the wire: (name, bytes to send, whether to wait for an answer)."""
        headers = f"Authorization: Bearer {key}\r\nContent-Type: {FORM_TYPE}\r\n"
        head = f"POST /v1/customers HTTP/1.1\r\nHost: fuzz\r\n{headers}"
        yield "half-sent body", f"{head}Content-Length: 100\r\n\r\nname=Half".encode(), False
        yield "lying content-length", f"{head}Content-Length: 5\r\n\r\nname=Too+long+by+far".encode(), True
        yield "oversized body", f"{head}Content-Length: {2**20 + 10}\r\n\r\n".encode() + b"n" * (2**20 + 10), True
        yield "oversized declared", f"{head}Content-Length: {2**31}\r\n\r\nname=x".encode(), False
        yield "bad chunk", f"{head}Transfer-Encoding: chunked\r\n\r\nzz\r\nname=x\r\n0\r\n\r\n".encode(), True
        yield "dropped mid-headers", head.encode()[: self.rng.randrange(10, len(head))], False
        yield "long header", f"GET /v1/customers HTTP/1.1\r\nX-A: {'a' * 9000}\r\n\r\n".encode(), True
        yield "many headers", ("GET /v1/customers HTTP/1.1\r\n" + "X-A: 1\r\n" * 150 + "\r\n").encode(), True
        yield "raw bytes in path", b"GET /v1/\xff\x00 HTTP/1.1\r\nHost: fuzz\r\n\r\n", True
        yield "unknown method", b"BREW /v1/customers HTTP/1.1\r\nHost: fuzz\r\n\r\n", True


def _flatten(value: Any, prefix: str, pairs: list[tuple[str, str]], rng: random.Random) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}[{k}]" if prefix else str(k), pairs, rng)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}[{'' if rng.random() < 0.2 else i}]", pairs, rng)
    else:
        pairs.append((prefix, str(value)))


def _typed(value: Any, rng: random.Random) -> Any:
    """Form-style strings as JSON values: numbers and booleans where they parse, sometimes."""
    if isinstance(value, dict):
        return {k: _typed(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v, rng) for v in value]
    if isinstance(value, str) and rng.random() < 0.3:
        try:
            return int(value)
        except ValueError:
            return {"true": True, "false": False}.get(value, value)
    return value
