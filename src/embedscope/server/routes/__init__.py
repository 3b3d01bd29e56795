"""One router per resource: info, spaces (columns), layouts, clusters, items (and their neighbours), compress,
health, search, translate, compare, selection (CSV export), filter, thumbs (thumbnails of image items)."""

from . import clusters, columns, compare, compress, filter, health, info, items, layouts, search, selection, thumbs, translate

ROUTERS = (info.router, columns.router, layouts.router, clusters.router, items.router, compress.router,
           health.router, search.router, translate.router, compare.router, selection.router,
           filter.router, thumbs.router)

__all__ = ["ROUTERS"]
