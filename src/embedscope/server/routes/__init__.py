"""One router per resource: info, spaces (columns), layouts, clusters, items (and their neighbours), compress,
health, search."""

from . import clusters, columns, compress, health, info, items, layouts, search

ROUTERS = (info.router, columns.router, layouts.router, clusters.router, items.router, compress.router,
           health.router, search.router)

__all__ = ["ROUTERS"]
