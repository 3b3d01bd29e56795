"""A plain page that renders the notebook widget's ES module with a minimal stand-in for anywidget's model.

Used by tests/web/test_widget.py and bench/widget.py. Serve ``PAGE`` and ``embedscope/widget_static/widget.js``
from one origin (Playwright's ``page.route``), then call ``window.mount(wire(w.get_state()))``: bytes traits
arrive as ``DataView`` (as anywidget >= 0.9 gives them), ``model.set``/``save_changes``/``send`` are logged in
``window.fake.log``, ``fake.update(changes)`` plays a kernel update, ``fake.emit('msg:custom', msg)`` a
custom message. ``fake.t0`` is ``performance.now()`` just before ``render``.
"""

from __future__ import annotations

import base64
from typing import Any

PAGE = """<!doctype html><meta charset="utf-8"><body style="margin:0;background:#fff">
<div id="cell" style="width:900px;margin:20px"></div>
<script type="module">
import widget from './widget.js';
const decode = (v) => {
  if (!(v && typeof v === 'object' && '__bytes__' in v)) return v;
  const text = atob(v.__bytes__);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new DataView(bytes.buffer);
};
const bytesOf = (dv) => {
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(text);
};
window.mount = (raw) => {
  const state = {};
  const listeners = {};
  const log = { sets: [], saves: 0, sent: [] };
  const emit = (event, ...args) => (listeners[event] || []).forEach((cb) => cb(...args));
  const model = {
    get: (name) => state[name],
    set: (name, value) => { state[name] = value; log.sets.push([name, value]); emit(`change:${name}`); },
    save_changes: () => { log.saves += 1; },
    on: (event, cb) => { (listeners[event] ||= []).push(cb); },
    off: (event, cb) => { listeners[event] = (listeners[event] || []).filter((f) => f !== cb); },
    send: (content) => log.sent.push(content),
  };
  for (const [k, v] of Object.entries(raw)) state[k] = decode(v);
  const update = (changes) => {
    for (const [k, v] of Object.entries(changes)) state[k] = decode(v);
    for (const k of Object.keys(changes)) emit(`change:${k}`);
  };
  const el = document.getElementById('cell');
  window.fake = { model, log, emit, update, bytesOf, t0: performance.now() };
  window.fake.cleanup = widget.render({ model, el });
};
</script>"""


def wire(state: dict[str, Any]) -> dict[str, Any]:
    """Trait values as the page gets them: bytes as base64 (decoded to DataView there), the rest as JSON."""
    return {k: {"__bytes__": base64.b64encode(v).decode()} if isinstance(v, bytes) else v for k, v in state.items()}
