"""Writes `mockstripe/data/spec_table.json.gz` from Stripe's OpenAPI spec and example objects: what the
generic endpoint layer (`mockstripe/wire/spec.py`, `mockstripe/resources/generic.py`) needs at run time.

Run: `python scripts/generate_spec_table.py PATH/TO/stripe-openapi-spec3.json PATH/TO/stripe-fixtures3.json`.

Both inputs come from Stripe's public openapi repository (MIT licence, Copyright (c) Stripe). The
table keeps only the machine-readable parts the server uses, with every description left out:

- `operations`: one row per v1 operation: method, path (path parameters renamed in order to what
  the route table uses), the kind of operation (create, retrieve, update, delete, list, search,
  action, singleton), the object type it answers with, its path parameter names, and its
  parameters as one reduced JSON schema (query parameters for GET and DELETE, the form body for POST);
- `schemas`: every component schema, reduced the same way (`$ref`s are bare schema names);
- `objects`: object type (an object's `object` field) -> its schema name;
- `fixtures`: object type -> Stripe's example object.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "mockstripe" / "data" / "spec_table.json.gz"
REF = "#/components/schemas/"
# Schema keywords the validator and the object builder read; everything else (prose) is dropped.
KEPT = ("type", "enum", "required", "nullable", "maxLength", "format", "x-expandableFields")


def reduce(schema: dict) -> dict:
    if "$ref" in schema:
        return {"$ref": schema["$ref"].removeprefix(REF)}
    out: dict = {k: schema[k] for k in KEPT if k in schema}
    if "properties" in schema:
        out["properties"] = {name: reduce(s) for name, s in schema["properties"].items()}
    if "items" in schema:
        out["items"] = reduce(schema["items"])
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        out["anyOf"] = [reduce(s) for s in options]
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = reduce(extra)
    resources = schema.get("x-expansionResources")
    if resources:
        out["x-expansionResources"] = [s["$ref"].removeprefix(REF) for s in resources["oneOf"]]
    return out


def object_name(schema: dict) -> str | None:
    """The `object` field's single value, e.g. `checkout.session`."""
    values = schema.get("properties", {}).get("object", {}).get("enum") or []
    return values[0] if len(values) == 1 else None


def response_schema(operation: dict) -> dict:
    """The JSON answer's schema; `{}` for a file download (a quote's PDF)."""
    content = operation["responses"]["200"]["content"]
    return content["application/json"]["schema"] if "application/json" in content else {}


def answered_type(schema: dict, schemas: dict) -> tuple[str | None, bool]:
    """(object type, whether it is a list of them) of a response schema."""
    if "$ref" in schema:
        target = schemas[schema["$ref"].removeprefix(REF)]
        return object_name(target) or answered_type({"anyOf": target.get("anyOf", [])}, schemas)[0], False
    for option in schema.get("anyOf", []):
        found, _ = answered_type(option, schemas)
        if found is not None and not found.startswith("deleted_"):
            return found, False
    props = schema.get("properties", {})
    if "data" in props and object_name(schema) in ("list", "search_result"):
        found, _ = answered_type(props["data"].get("items", {}), schemas)
        return found, True
    return object_name(schema), False


def parameters(operation: dict, method: str) -> dict:
    """The operation's parameters as one object schema."""
    if method == "post":
        form = operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded")
        return reduce(form["schema"]) if form else {"type": "object", "properties": {}}
    query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    return {
        "type": "object",
        "properties": {p["name"]: reduce(p["schema"]) for p in query},
        "required": [p["name"] for p in query if p.get("required")],
    }


def kind_of(method: str, path: str, is_list: bool, is_collection: bool) -> str:
    """create, retrieve, update, delete, list, search, singleton (a GET of one object named by
    nothing, such as `/v1/balance`) or action (any other POST, such as `.../{id}/cancel`)."""
    ends_in_id = path.rstrip("/").split("/")[-1].startswith("{")
    if method == "get":
        if is_list:
            return "search" if path.endswith("/search") else "list"
        return "retrieve" if ends_in_id else "singleton"
    if method == "delete":
        return "delete"
    if ends_in_id:
        return "update"
    return "create" if is_collection else "action"


def main(spec_path: str, fixtures_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    fixtures = json.loads(Path(fixtures_path).read_text(encoding="utf-8"))["resources"]
    schemas = spec["components"]["schemas"]
    operations = []
    for path, item in spec["paths"].items():
        for method in ("get", "post", "delete"):
            operation = item.get(method)
            if operation is None:
                continue
            answers, is_list = answered_type(response_schema(operation), schemas)
            # In the order the path names them (the spec lists them in any order).
            names = [segment[1:-1] for segment in path.split("/") if segment.startswith("{")]
            listed = item.get("get")
            is_collection = listed is not None and answered_type(response_schema(listed), schemas)[1]
            kind = kind_of(method, path, is_list, bool(is_collection))
            operations.append(
                {
                    "content_type": next(iter(operation["responses"]["200"]["content"])),
                    "method": method.upper(),
                    "path": path,
                    "kind": kind,
                    "object": answers,
                    "list": is_list,
                    "path_params": names,
                    "params": parameters(operation, method),
                }
            )
    objects = {}
    for name, schema in schemas.items():
        found = object_name(schema)
        if found and not name.startswith("deleted_") and found not in objects:
            objects[found] = name
    table = {
        "source": {
            "spec": f"Stripe OpenAPI spec3, version {spec['info']['version']}",
            "licence": "MIT, Copyright (c) Stripe (https://github.com/stripe/openapi)",
        },
        "operations": operations,
        "schemas": {name: reduce(schema) for name, schema in schemas.items()},
        "objects": objects,
        "fixtures": fixtures,
    }
    TARGET.parent.mkdir(exist_ok=True)
    data = json.dumps(table, separators=(",", ":"), sort_keys=True).encode()
    TARGET.write_bytes(gzip.compress(data, 9, mtime=0))
    print(f"{TARGET}: {len(operations)} operations, {len(data)} bytes, {TARGET.stat().st_size} gzipped")


if __name__ == "__main__":
    main(*sys.argv[1:])
