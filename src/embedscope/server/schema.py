"""The server's OpenAPI schema as TypeScript: the front end's JSON types come from the routes' pydantic models.

``python -m embedscope.server.schema web/src/data/schema.ts`` writes one ``export interface`` per schema component
(and the paths and methods of every route as a string union), so ``web/src/data/api.ts`` is typed against what the
server really answers and ``tsc`` catches a route that changed shape. ``tests/test_schema.py`` fails when the
committed file is older than the routes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HEADER = ("// Generated from the server's OpenAPI schema by `python -m embedscope.server.schema web/src/data/schema.ts`.\n"
          "// Do not edit: change the pydantic models in src/embedscope/server/routes/ and regenerate.\n")


def openapi() -> dict[str, Any]:
    """The OpenAPI document of the explorer's app (it does not depend on the workspace served)."""
    from .app import create_app

    return create_app(None).openapi()


def _ts(schema: dict[str, Any]) -> str:
    """The TypeScript type of one JSON schema."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema or "oneOf" in schema:
        parts = [_ts(s) for s in schema.get("anyOf", schema.get("oneOf", []))]
        return " | ".join(dict.fromkeys(parts))
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    t = schema.get("type")
    if isinstance(t, list):
        return " | ".join(_ts({**schema, "type": x}) for x in t)
    if t == "string":
        return "string"
    if t in ("integer", "number"):
        return "number"
    if t == "boolean":
        return "boolean"
    if t == "null":
        return "null"
    if t == "array":
        inner = _ts(schema.get("items", {}))
        prefix = schema.get("prefixItems")
        if prefix:
            return "[" + ", ".join(_ts(p) for p in prefix) + "]"
        return f"({inner})[]" if " " in inner else f"{inner}[]"
    if t == "object" or "properties" in schema or "additionalProperties" in schema:
        props = schema.get("properties")
        if props:
            return _object(schema)
        extra = schema.get("additionalProperties")
        return f"Record<string, {_ts(extra) if isinstance(extra, dict) and extra else 'unknown'}>"
    return "unknown"


def _key(name: str) -> str:
    return name if name.isidentifier() else json.dumps(name)


def _object(schema: dict[str, Any], indent: str = "") -> str:
    required = set(schema.get("required", []))
    lines = ["{"]
    for name, prop in schema.get("properties", {}).items():
        doc = prop.get("description")
        if doc:
            lines.append(f"{indent}  /** {' '.join(str(doc).split())} */")
        opt = "" if name in required else "?"
        lines.append(f"{indent}  {_key(name)}{opt}: {_ts(prop)};")
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def typescript(doc: dict[str, Any] | None = None) -> str:
    """The TypeScript module for an OpenAPI document (default: the app's)."""
    doc = doc or openapi()
    out = [HEADER]
    for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items()):
        desc = schema.get("description")
        if desc:
            out.append("/** " + " ".join(str(desc).split()) + " */")
        if schema.get("type") == "object" or "properties" in schema:
            out.append(f"export interface {name} {_object(schema)}\n")
        else:
            out.append(f"export type {name} = {_ts(schema)};\n")
    routes = sorted(f"{method.upper()} {path}" for path, ops in doc.get("paths", {}).items() for method in ops)
    out.append("/** Every route of the server, as \"METHOD /path\". */")
    out.append("export type Route =\n" + "\n".join(f"  | {json.dumps(r)}" for r in routes) + ";\n")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = typescript()
    if not args:
        sys.stdout.write(text)
        return 0
    path = Path(args[0])
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
