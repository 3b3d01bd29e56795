"""The front end is typed against the server's OpenAPI schema: web/src/data/schema.ts is generated from the routes'
pydantic models and must be current (tsc then checks web/src/data/api.ts against it in `npm run build`)."""

from __future__ import annotations

from pathlib import Path

from embedscope.server.schema import _ts, openapi, typescript

SCHEMA_TS = Path(__file__).resolve().parents[2] / "web" / "src" / "data" / "schema.ts"


def test_committed_typescript_matches_the_routes() -> None:
    want = typescript()
    assert SCHEMA_TS.read_text(encoding="utf-8") == want, (
        "web/src/data/schema.ts is out of date with the server's routes: run "
        "`.venv/bin/python -m embedscope.server.schema web/src/data/schema.ts` and rebuild the web app")


def test_every_json_route_is_declared() -> None:
    doc = openapi()
    text = typescript(doc)
    for path, ops in doc["paths"].items():
        for method in ops:
            assert f'"{method.upper()} {path}"' in text
    for name in ("ItemOut", "NeighborsOut", "SearchOut", "InfoOut", "CompareOut"):
        assert f"export interface {name} " in text


def test_type_conversion() -> None:
    assert _ts({"anyOf": [{"$ref": "#/components/schemas/GraphOut"}, {"type": "null"}]}) == "GraphOut | null"
    assert _ts({"type": "array", "items": {"type": "integer"}}) == "number[]"
    assert _ts({"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}) == "(string | number)[]"
    assert _ts({"enum": ["a", "b"]}) == '"a" | "b"'
    assert _ts({"type": "object", "additionalProperties": {"type": "number"}}) == "Record<string, number>"
    assert _ts({"type": "object", "properties": {"x": {"type": "string"}, "my-key": {"type": "boolean"}},
                "required": ["x"]}) == '{\n  x: string;\n  "my-key"?: boolean;\n}'


def test_analysis_results_are_typed() -> None:
    """The compare, compress and translate results and the recorded parameters are models, not open objects:
    every object schema of a response names its properties, but the free-form leaves (``JsonValue``)."""
    schemas = openapi()["components"]["schemas"]
    for name, field in (("CompareOut", "result"), ("CompressOut", "result"), ("TranslateOut", "result")):
        refs = [s.get("$ref", "") for s in schemas[name]["properties"][field]["anyOf"]]
        assert any(r.endswith(("CompareResult", "CompressResult", "TranslateResult")) for r in refs), (name, refs)
    assert schemas["CompareResult"]["properties"]["retrieval"]["anyOf"][0]["$ref"].endswith("LabelRetrieval")
    assert "recall@10" in schemas["CompressRow"]["properties"]
    assert "from" in schemas["TranslateResult"]["required"]
    # a NaN figure arrives as null (jsonable) and must pass, not turn the answer into a 500
    assert schemas["CompareResult"]["properties"]["cka"]["anyOf"] == [{"type": "number"}, {"type": "null"}]
