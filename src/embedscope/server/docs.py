"""``GET /docs``: the API's reference as one self-contained page, made from the app's own OpenAPI schema.

FastAPI's default ``/docs`` is Swagger UI loaded from a CDN: offline (this tool's normal case) it showed a blank
page, and online it told a third party each time someone opened it. No package on the machine carries Swagger
UI's files (neither ``swagger-ui-bundle`` nor npm's ``swagger-ui-dist`` is a dependency, and shipping 1.5 MB of
JavaScript for a developer page is not worth a new one), so this page lists every operation (method, path,
summary, parameters) with no script and no outside request, and points at ``/openapi.json``, the full schema,
for tools (Swagger UI, Postman, openapi-generator) the user already has.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

_STYLE = ("body{font:15px system-ui;margin:2em auto;max-width:60em;padding:0 1em;background:#0f1115;color:#e6e8ee}"
          "a{color:#7aa2ff}code{font:13px ui-monospace,monospace}.op{margin:1.2em 0;border-top:1px solid #2a2f3a;"
          "padding-top:.6em}.m{display:inline-block;min-width:4.5em;font-weight:600;color:#9ece6a}"
          ".m.post{color:#e0af68}ul{margin:.3em 0 0 0}p{margin:.3em 0}")


def docs_page(schema: dict[str, Any]) -> str:
    """The HTML of ``/docs`` for an OpenAPI ``schema`` (every text escaped)."""
    info = schema.get("info", {})
    title = html.escape(f"{info.get('title', 'API')} {info.get('version', '')}".strip())
    ops = []
    for path, methods in sorted(schema.get("paths", {}).items()):
        for method, op in methods.items():
            params = "".join(
                f"<li><code>{html.escape(str(p.get('name')))}</code> ({html.escape(str(p.get('in')))}"
                f"{', required' if p.get('required') else ''}): "
                f"{html.escape(str(p.get('description') or p.get('schema', {}).get('description') or ''))}</li>"
                for p in op.get("parameters", []))
            body = html.escape(str(op.get("description") or "")).replace("\n\n", "<br>")
            ops.append(f'<div class="op"><span class="m {html.escape(method)}">{html.escape(method.upper())}</span>'
                       f"<code>{html.escape(path)}</code><p><b>{html.escape(str(op.get('summary') or ''))}</b></p>"
                       f"<p>{body}</p>{f'<ul>{params}</ul>' if params else ''}</div>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
            '<p>The full schema: <a href="openapi.json"><code>/openapi.json</code></a> (OpenAPI 3; open it in any '
            "OpenAPI tool). This page is served by the server itself: nothing is loaded from elsewhere.</p>"
            f"{''.join(ops)}</body></html>")


def add_docs(app: FastAPI) -> None:
    """Serve :func:`docs_page` of ``app``'s schema at ``/docs`` (made once, on first request)."""
    page: list[str] = []

    @app.get("/docs", include_in_schema=False, response_model=None)
    def _docs(request: Request) -> HTMLResponse:
        if not page:
            page.append(docs_page(request.app.openapi()))
        return HTMLResponse(page[0], headers={"Content-Security-Policy": "default-src 'none'; "
                                                                          "style-src 'unsafe-inline'"})
