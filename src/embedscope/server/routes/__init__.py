"""One router per resource: info, spaces (columns), layouts, clusters, items (and their neighbours), compress,
health, search, translate."""

from . import clusters, columns, compress, health, info, items, layouts, search, translate

ROUTERS = (info.router, columns.router, layouts.router, clusters.router, items.router, compress.router,
           health.router, search.router, translate.router)

__all__ = ["ROUTERS"]
