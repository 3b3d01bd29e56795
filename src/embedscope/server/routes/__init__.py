"""One router per resource: info, spaces (columns), layouts, items (and their neighbours)."""

from . import columns, info, items, layouts

ROUTERS = (info.router, columns.router, layouts.router, items.router)

__all__ = ["ROUTERS"]
