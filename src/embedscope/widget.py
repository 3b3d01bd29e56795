"""The explorer's map inside Jupyter: an anywidget over one stored layout, with the selection readable in Python.

>>> import embedscope
>>> scope = embedscope.open("reviews.scope")                    # doctest: +SKIP
>>> w = embedscope.widget(scope, color="label")                  # doctest: +SKIP
>>> w                                                            # doctest: +SKIP  (the map, in the cell)
>>> w.selected                                                   # doctest: +SKIP  ['17', '42', ...]
>>> w.selection_frame()                                          # doctest: +SKIP  id, text, metadata, x, y

The front end is the web app's own map (``web/src/views/map.ts``, regl-scatterplot on WebGL; colours and legend
from ``web/src/data/encoding.ts``), built by ``npm run build`` into ``widget_static/widget.js``. Data travels as
bytes, never as JSON lists of numbers: the layout as two little-endian float32 arrays, the colour column as
int16 category codes (-1 = missing) or float32 values (NaN = missing), the selection as uint32 rows. The hover
text of an item is fetched when the pointer rests on it (one custom message), so the first paint costs
8 bytes a point plus 2 (categorical) or 4 (numeric) for the colour. In a workspace with images, the hover also
shows the item's thumbnail: the front end asks for it by id (``{"type": "thumb", "id": ...}``) and gets the WebP
bytes as the reply's buffer (from :meth:`Scope.thumbnails`), never through HTTP.

Needs the optional extra ``notebook`` (``pip install 'embedscope[notebook]'``, i.e. anywidget).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError, MissingDependencyError, WorkspaceError

if TYPE_CHECKING:
    import pandas as pd

    from .server.protocol import ScopeAPI
    from .workspace import Scope

#: The built front end (``cd web && npm run build``).
STATIC = Path(__file__).parent / "widget_static" / "widget.js"
#: Column names coloured by default (the web app's choice: web/src/app.ts ``PREFERRED``).
PREFERRED_COLUMNS = ("label", "labels", "category", "categories", "class", "topic", "cluster", "group", "genre",
                     "type", "source", "lang", "language")
#: Hover text is cut to this many characters.
MAX_TEXT = 1_000

__all__ = ["widget"]


def widget(scope: Scope | str | Path, space: str | None = None, layout: str | None = None,
           color: str | None = None) -> Any:
    """The map of a stored layout as a Jupyter widget; select points with the mouse, read them in Python.

    Hover shows an item's text; a click selects one item; with the bar's Lasso button on, a drag draws a lasso
    around several (JupyterLab takes shift + drag for its cells; off, a drag pans; shift + drag still lassoes
    where the notebook lets it through). ``w.selected = []`` clears the selection.

    Parameters
    ----------
    scope
        An open workspace (:func:`embedscope.open`) or the path of one.
    space
        The space whose layout is shown; may be omitted when the workspace has one space.
    layout
        A stored layout method (``umap``, ``tsne``, ``pca``, ``sphere``, ...); by default the flat layout of
        lowest rank the space has (``umap``, then ``tsne``, then ``pca``: :func:`embedscope.projection.preferred`),
        else any.
    color
        A metadata column to colour by: categorical (a palette colour a value, with a legend) or numeric
        (a viridis ramp). By default the web app's choice (a categorical column such as ``label`` or
        ``topic``); ``""`` for no colour. Changeable later with ``w.color = "name"`` or the widget's menu.

    Returns
    -------
    ScopeWidget
        An ``anywidget.AnyWidget``. ``w.selected`` is the list of selected item ids (set it to highlight
        items); ``w.selection_frame()`` the selected items as a DataFrame; ``w.color`` the colour column;
        ``w.height`` the map's height in CSS pixels (480).

    Raises
    ------
    MissingDependencyError
        anywidget is not installed (``pip install 'embedscope[notebook]'``).
    WorkspaceError
        The space has no stored layout (or not the one named), or the front end is not built.
    InputError
        ``color`` is not a categorical or numeric column of the space.
    """
    try:
        import anywidget  # noqa: F401
    except ImportError:
        raise MissingDependencyError("the notebook widget", "notebook", "anywidget") from None
    if isinstance(scope, (str, Path)):
        from .workspace import Scope

        scope = Scope.open(scope)
    return _widget_class()(scope, space=space, layout=layout, color=color)


@functools.cache
def _widget_class() -> type:
    """``ScopeWidget``, defined on first use (anywidget is an optional dependency)."""
    import anywidget
    import pyarrow as pa
    import traitlets
    from ipywidgets.widgets.trait_types import bytes_serialization

    def binary() -> Any:
        return traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)

    class ScopeWidget(anywidget.AnyWidget):
        """The map of one layout of one space (see :func:`embedscope.widget`)."""

        _esm = traitlets.Unicode("").tag(sync=True)
        #: The space and layout method shown, and how many points.
        space = traitlets.Unicode("").tag(sync=True)
        method = traitlets.Unicode("").tag(sync=True)
        count = traitlets.Int(0).tag(sync=True)
        #: The colour column ("" = none) and the map's height in CSS pixels.
        color = traitlets.Unicode("").tag(sync=True)
        height = traitlets.Int(480).tag(sync=True)
        #: Selected item ids (Python side; travels as ``_selected_rows``).
        selected = traitlets.List(traitlets.Unicode())

        _x = binary()
        _y = binary()
        _codes = binary()
        _color_kind = traitlets.Unicode("none").tag(sync=True)
        _categories = traitlets.List(traitlets.Unicode()).tag(sync=True)
        _columns = traitlets.List(traitlets.Dict()).tag(sync=True)
        _selected_rows = binary()
        #: The workspace has thumbnails (the hover asks for them).
        _images = traitlets.Bool(False).tag(sync=True)

        def __init__(self, scope: Scope, *, space: str | None, layout: str | None, color: str | None) -> None:
            if not STATIC.is_file():
                raise WorkspaceError(f"the widget's front end is not built ({STATIC} is missing): "
                                     "cd web && npm ci && npm run build")
            space = scope.resolve_space(space)
            method = _pick_layout(scope, space, layout)
            stored = scope.layout(space, method)
            coords = np.asarray(stored.coords, dtype=np.float32)
            ids = [str(i) for i in stored.ids]
            if coords.shape != (len(ids), 2):
                raise WorkspaceError(f"layout {method!r} of space {space!r} has shape {coords.shape}, expected "
                                     f"({len(ids)}, 2); recompute it with embedscope project")
            self._scope = scope
            self._space = space
            self._ids = ids
            self._row_index: dict[str, int] | None = None
            self._from_front_end = False
            self._coords = coords
            self._items_table: Any = None
            self._image_ids: set[str] | None = None
            in_order = self._items().column("id").combine_chunks()
            if not in_order.equals(pa.array(ids, in_order.type)):
                raise WorkspaceError(f"layout {method!r} of space {space!r} is not in the space's point order; "
                                     f"recompute it with embedscope project {scope.path} --space {space} "
                                     f"--method {method}")
            columns = _colourable(self._items())
            names = [c["name"] for c in columns]
            if color is None:
                color = _default_color(columns)
            elif color and color not in names:
                raise InputError(f"cannot colour by {color!r}: not a categorical or numeric column of space "
                                 f"{space!r} (columns: {', '.join(names) or 'none'})", column=color)
            super().__init__(
                _esm=STATIC.read_text(encoding="utf-8"),
                space=space,
                method=method,
                count=len(ids),
                _x=np.ascontiguousarray(coords[:, 0], dtype="<f4").tobytes(),
                _y=np.ascontiguousarray(coords[:, 1], dtype="<f4").tobytes(),
                _columns=columns,
                color=color,
                _images=scope.has_images(),
            )
            self._recolor(None)
            self.observe(self._recolor, names="color")
            self.observe(self._from_rows, names="_selected_rows")
            self.observe(self._to_rows, names="selected")
            self.on_msg(self._on_message)

        # -- selection ---------------------------------------------------------------------------
        def selection_frame(self) -> pd.DataFrame:
            """The selected items: ``id``, ``text`` (if any), metadata columns, ``x``, ``y`` (layout coordinates)."""
            rows = np.frombuffer(self._selected_rows, dtype="<u4").astype(np.int64)  # in step with `selected`
            frame = self._items().take(rows).to_pandas()
            frame["x"] = self._coords[rows, 0]
            frame["y"] = self._coords[rows, 1]
            return frame

        @property
        def _row_of(self) -> dict[str, int]:
            """Row of each id (built on first use: a million ids take a second)."""
            if self._row_index is None:
                self._row_index = {item_id: row for row, item_id in enumerate(self._ids)}
            return self._row_index

        @traitlets.validate("selected")
        def _check_selected(self, proposal: Any) -> list[str]:
            ids = [str(i) for i in proposal["value"]]
            if self._from_front_end:  # ids of valid, distinct rows (see _from_rows)
                return ids
            unknown = [i for i in ids if i not in self._row_of]
            if unknown:
                shown = ", ".join(repr(i) for i in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
                raise InputError(f"{len(unknown)} selected id(s) are not points of space {self.space!r}: {shown}")
            return list(dict.fromkeys(ids))

        def _to_rows(self, change: Any) -> None:
            if self._from_front_end:
                return
            rows = np.fromiter((self._row_of[i] for i in change["new"]), dtype="<u4", count=len(change["new"]))
            self._selected_rows = rows.tobytes()

        def _from_rows(self, change: Any) -> None:
            rows = np.frombuffer(change["new"], dtype="<u4")
            if rows.size and int(rows.max()) >= len(self._ids):
                raise InputError(f"selected row {int(rows.max())} is beyond the {len(self._ids)} points of the map")
            _, first = np.unique(rows, return_index=True)
            if first.size < rows.size:
                self._selected_rows = rows[np.sort(first)].tobytes()  # comes back here without the repeats
                return
            # Rows from the map are valid and distinct: no id lookup (a million-id index takes a second).
            self._from_front_end = True
            try:
                self.selected = [self._ids[r] for r in rows.tolist()]
            finally:
                self._from_front_end = False

        # -- colour ------------------------------------------------------------------------------
        def _recolor(self, _change: Any) -> None:
            # The server's encoders, so a column gets the same category order (most frequent first), hence the
            # same colours, as in `embedscope serve`.
            from .server.columns import categorical_table, numeric_table

            name = self.color
            kind = next((c["kind"] for c in self._columns if c["name"] == name), None)
            if name and kind is None:
                names = ", ".join(c["name"] for c in self._columns) or "none"
                raise InputError(f"cannot colour by {name!r}: not a categorical or numeric column of space "
                                 f"{self.space!r} (columns: {names})", column=name)
            with self.hold_sync():
                if not name:
                    self._color_kind, self._categories, self._codes = "none", [], b""
                    return
                data = self._items().column(name)
                if kind == "categorical":
                    arr = categorical_table(data, name).column(0).combine_chunks()
                    codes = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype("<i2")
                    self._color_kind = "categorical"
                    self._categories = [str(v) for v in arr.dictionary.to_pylist()]
                    self._codes = codes.tobytes()
                else:
                    values = numeric_table(data, name).column(0).combine_chunks()
                    self._color_kind = "numeric"
                    self._categories = []
                    self._codes = values.fill_null(np.nan).to_numpy(zero_copy_only=False).astype("<f4").tobytes()

        # -- hover text and thumbnail -------------------------------------------------------------
        def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
            if not isinstance(content, dict):
                return
            if content.get("type") == "item":
                row = content.get("row")
                if isinstance(row, int) and 0 <= row < len(self._ids):
                    self.send({"type": "item", "item": self.item(row)})
            elif content.get("type") == "thumb" and isinstance(content.get("id"), str):
                item_id = content["id"]
                webp = self.thumbnail(item_id)
                self.send({"type": "thumb", "id": item_id, "found": webp is not None},
                          buffers=[webp] if webp is not None else None)

        def thumbnail(self, item_id: str) -> bytes | None:
            """The WebP thumbnail of item ``item_id`` (what the hover shows), or None when it has none."""
            if not self._images:
                return None
            return self._scope.thumbnails([item_id]).get(item_id)

        def item(self, row: int) -> dict[str, Any]:
            """What the hover shows of point ``row``: ``row``, ``id``, ``text`` (cut to 1,000 characters), ``metadata``,
            and in a workspace with images ``has_image`` (a thumbnail to ask for)."""
            from .server.columns import RESERVED, jsonable

            record = self._items().slice(row, 1).to_pylist()[0]
            text = record.get("text")
            if isinstance(text, str) and len(text) > MAX_TEXT:
                text = text[: MAX_TEXT - 1] + "…"
            metadata = {k: jsonable(v) for k, v in record.items() if k not in RESERVED}
            out = {"row": row, "id": self._ids[row], "text": text, "metadata": metadata}
            if self._images:
                out["has_image"] = self._ids[row] in self._with_images()
            return out

        def _with_images(self) -> set[str]:
            """Ids of the items that have a thumbnail (read once)."""
            if self._image_ids is None:
                self._image_ids = set(self._scope.image_files()[0])
            return self._image_ids

        def _items(self) -> Any:
            """The space's items in point order (read once)."""
            if self._items_table is None:
                self._items_table = self._scope.items_for(self._space).combine_chunks()
            return self._items_table

    return ScopeWidget


def _pick_layout(scope: ScopeAPI, space: str, layout: str | None) -> str:
    stored = scope.layouts(space)
    if layout is not None:
        if layout not in stored:
            have = ", ".join(stored) or "none"
            raise WorkspaceError(f"space {space!r} has no {layout} layout (it has: {have}); compute it with "
                                 f"embedscope project {scope.path} --space {space} --method {layout}")
        return layout
    if not stored:
        raise WorkspaceError(f"space {space!r} has no stored layout to show; compute one with "
                             f"embedscope project {scope.path} --space {space}")
    from .projection import preferred

    return preferred(stored) or stored[0]  # the plane layout of lowest rank (umap, tsne, pca), else the first


def _colourable(items: Any) -> list[dict[str, Any]]:
    """The columns the map can colour by: ``[{"name", "kind"}]`` (categorical or numeric), in table order."""
    from .server.columns import RESERVED, classify

    out = []
    for name in items.column_names:
        if name in RESERVED:
            continue
        kind, n_unique = classify(items.column(name))
        if kind != "text":
            out.append({"name": name, "kind": kind, "n_unique": n_unique})
    return out


def _default_color(columns: list[dict[str, Any]]) -> str:
    """The web app's default: a categorical column with more than one value, preferring usual label names."""
    categorical = [c["name"] for c in columns if c["kind"] == "categorical" and c["n_unique"] > 1]
    preferred = [n for n in categorical if n.lower() in PREFERRED_COLUMNS]
    return (preferred or categorical or [""])[0]
