"""One router per resource: info, spaces (columns), layouts, clusters, items (and their neighbours), compress,
health."""

from . import clusters, columns, compress, health, info, items, layouts

ROUTERS = (info.router, columns.router, layouts.router, clusters.router, items.router, compress.router,
           health.router)

__all__ = ["ROUTERS"]
