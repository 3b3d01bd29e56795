"""One router per resource: info, spaces (columns), layouts, clusters, items (and their neighbours), compress,
health, search, translate, compare."""

from . import clusters, columns, compare, compress, health, info, items, layouts, search, translate

ROUTERS = (info.router, columns.router, layouts.router, clusters.router, items.router, compress.router,
           health.router, search.router, translate.router, compare.router)

__all__ = ["ROUTERS"]
