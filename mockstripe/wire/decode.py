"""Request decoding: form bodies and query strings become nested params.

Parsing turns the raw text into (key, value) pairs; assembling turns bracket keys such as
`items[0][price]` or `expand[]` into nested dicts and lists. Leaves stay strings: coercing them
to the declared types is the job of `wire.params`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson

from .errors import invalid

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INDEX = re.compile(r"^[0-9]+$")  # ASCII only: str.isdigit() also accepts "²", which int() refuses
# UNSURE: Stripe's exact caps. Its own params nest at most about five levels and no array holds
# anywhere near a million elements; the caps keep decoding cheap and its recursion shallow.
MAX_NESTING = 20
MAX_INDEX_DIGITS = 6


class _Indexed(dict):
    """A list under construction: `a[0]`, `a[1]` or `a[]` entries keyed by position."""


def parse_form(text: bytes | str) -> list[tuple[str, str]]:
    """Split `a=1&b[c]=2` into pairs, percent-decoding keys (so `%5B` brackets work) and values."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid("Invalid request: the body is not valid UTF-8.") from None
    try:
        # Only the parts that need it are percent-decoded: most keys and values don't, and
        # this is on the path of every request.
        pairs = []
        for part in text.split("&"):
            if part:
                key, _, value = part.partition("=")
                pairs.append((_unquoted(key), _unquoted(value)))
        return pairs
    except UnicodeDecodeError:
        raise invalid("Invalid request: a parameter is not valid UTF-8 once percent-decoded.") from None


def _unquoted(text: str) -> str:
    """`text` with `+` as a space and percent escapes decoded (as `unquote_plus`, in less time)."""
    if "+" in text:
        text = text.replace("+", " ")
    if "%" in text:
        text = unquote_to_bytes(text).decode("utf-8")
    return text


def assemble(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Nest bracket keys into dicts and lists; `a[0][b]` and `a[]` build lists."""
    root: dict[str, Any] = {}
    nested = False
    for key, value in pairs:
        if "[" not in key:
            if isinstance(root.get(key), dict):
                raise _mixed(key)
            root[key] = value
            continue
        head, _, rest = key.partition("[")
        inner = rest[:-1]
        if head and rest[-1:] == "]" and inner and "[" not in inner and "]" not in inner and not _INDEX.match(inner):
            # Fast path for the common `a[b]=v` (metadata, payload): one level of hash.
            node = root.setdefault(head, {})
            if type(node) is not dict or isinstance(node.get(inner), dict):
                raise _mixed(head if type(node) is not dict else key)
            node[inner] = value
            continue
        match = _KEY.match(key)
        if match is None:
            raise invalid(f"Invalid parameter name: {key}", param=key)
        path = [match.group(1), *_SEGMENT.findall(match.group(2))]
        if len(path) > MAX_NESTING + 1:
            raise invalid(
                f"Invalid parameter name: {key[:100]}...; parameters nest at most {MAX_NESTING} levels deep.",
                param=path[0],
            )
        _insert(root, path, value, key)
        nested = True
    # Flat params (the common case) have no lists under construction to finish.
    return _finish(root, "") if nested else root


def _insert(root: dict, path: list[str], value: str, key: str) -> None:
    node: dict = root
    for depth, segment in enumerate(path[:-1]):
        following = path[depth + 1]
        wanted = _Indexed if following == "" or _INDEX.match(following) else dict
        child = node.get(_slot(node, segment))
        if child is None:
            child = wanted()
            node[_slot(node, segment, new=True)] = child
        elif not isinstance(child, dict) or type(child) is not wanted:
            raise _mixed(_bracket(path[: depth + 1]))
        node = child
    last = _slot(node, path[-1], new=True)
    if isinstance(node.get(last), dict):
        raise _mixed(key)
    node[last] = value


def _slot(node: dict, segment: str, *, new: bool = False) -> Any:
    if not isinstance(node, _Indexed):
        return segment
    if segment == "":
        # `a[]` appends; `a[][b]` cannot say which element it extends, so it always starts one.
        return len(node) if new else None
    if len(segment) > MAX_INDEX_DIGITS:
        raise invalid(f"Invalid array index: {segment[:20]}...; indexes have at most {MAX_INDEX_DIGITS} digits.")
    return int(segment)


def _finish(node: Any, path: str) -> Any:
    if isinstance(node, _Indexed):
        if sorted(node) != list(range(len(node))):
            raise invalid(f"Invalid array: the indexes of {path} must run from 0 with no gaps.", param=path)
        return [_finish(node[i], f"{path}[{i}]") for i in range(len(node))]
    if isinstance(node, dict):
        return {k: v if type(v) is str else _finish(v, f"{path}[{k}]" if path else k) for k, v in node.items()}
    return node


def _bracket(path: list[Any]) -> str:
    return path[0] + "".join(f"[{p}]" for p in path[1:])


def _mixed(name: str) -> Exception:
    return invalid(f"Invalid request: {name} is given both as a value and as a hash.", param=name)


def decode_form(body: bytes | str) -> dict[str, Any]:
    return assemble(parse_form(body)) if body else {}


def decode_json(body: bytes) -> dict[str, Any]:
    """v2 bodies are JSON objects."""
    if not body:
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid("Invalid JSON: the request body could not be parsed.") from None
    if not isinstance(value, dict):
        raise invalid("Invalid JSON: the request body must be an object.")
    return value
