"""One router per resource: info, spaces (columns), layouts, clusters, items (and their neighbours)."""

from . import clusters, columns, info, items, layouts

ROUTERS = (info.router, columns.router, layouts.router, clusters.router, items.router)

__all__ = ["ROUTERS"]
