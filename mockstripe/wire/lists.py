"""List responses: `{object: "list", data, has_more, url}`, newest first, with cursors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from .errors import no_such
from .params import Integer, Param, String

if TYPE_CHECKING:
    from ..store import Account

Obj = dict[str, Any]

PAGE_PARAMS: dict[str, Param] = {
    "limit": Integer(minimum=1, maximum=100),
    "starting_after": String(nullable=False),
    "ending_before": String(nullable=False),
}
PAGE_EXCLUSIVE = (("starting_after", "ending_before"),)


def list_object(data: list[Obj], has_more: bool, url: str) -> Obj:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def paginate(
    newest_first: Iterable[Obj],
    params: dict[str, Any],
    url: str,
    *,
    account: Account,
    object_type: str,
    noun: str,
    keep: Callable[[Obj], bool] | None = None,
) -> Obj:
    """One page of `newest_first`, filtered by `keep`, after or before a cursor."""
    cursor = params.get("starting_after") or params.get("ending_before")
    if cursor is not None and account.collection(object_type).objects.get(cursor) is None:
        raise _no_such_cursor(noun, cursor, params)
    return _page(list(newest_first), params, url, keep)


def paginate_computed(items: list[Obj], params: dict[str, Any], url: str, *, noun: str) -> Obj:
    """`paginate` for objects computed per request (e.g. meter event summaries), not stored:
    a cursor must be one of `items`."""
    cursor = params.get("starting_after") or params.get("ending_before")
    if cursor is not None and not any(obj["id"] == cursor for obj in items):
        raise _no_such_cursor(noun, cursor, params)
    return _page(items, params, url)


def _page(items: list[Obj], params: dict[str, Any], url: str, keep: Callable[[Obj], bool] | None = None) -> Obj:
    """One page of `items` (newest first), filtered by `keep`, after or before a cursor."""
    limit = params.get("limit") or 10
    after, before = params.get("starting_after"), params.get("ending_before")
    cursor = after or before
    if cursor is not None:
        position = next((i for i, obj in enumerate(items) if obj["id"] == cursor), len(items))
        items = items[position + 1 :] if after else items[:position]
    if keep is not None:
        items = [obj for obj in items if keep(obj)]
    if before:
        return list_object(items[-limit:], len(items) > limit, url)
    return list_object(items[:limit], len(items) > limit, url)


def _no_such_cursor(noun: str, cursor: str, params: dict[str, Any]) -> Exception:
    return no_such(noun, cursor, "starting_after" if params.get("starting_after") else "ending_before")


def in_range(value: int, bounds: int | dict[str, int]) -> bool:
    """`created=123` or `created[gte]=...&created[lt]=...` filters."""
    if isinstance(bounds, int):
        return value == bounds
    return (
        ("gt" not in bounds or value > bounds["gt"])
        and ("gte" not in bounds or value >= bounds["gte"])
        and ("lt" not in bounds or value < bounds["lt"])
        and ("lte" not in bounds or value <= bounds["lte"])
    )
