"""One router per resource: info, spaces (columns), layouts, clusters, items (and their neighbours), compress."""

from . import clusters, columns, compress, info, items, layouts

ROUTERS = (info.router, columns.router, layouts.router, clusters.router, items.router, compress.router)

__all__ = ["ROUTERS"]
