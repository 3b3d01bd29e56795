"""JSON types shared by the response models of the analysis routes (compare, compress, translate).

The stored results pass through :func:`embedscope.server.columns.jsonable`, which turns a NaN or infinite float
into ``null``: a measured figure is therefore ``float | None`` in the models (a typed ``float`` would reject
the ``null`` of a degenerate space where the old free-form dict let it through).
"""

from __future__ import annotations

#: A measured float; ``null`` where it was not finite.
Figure = float | None
