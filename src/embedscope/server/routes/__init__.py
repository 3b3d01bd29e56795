"""One router per resource: info, spaces (columns), layouts, clusters, items (and their neighbours), compress,
health, search, translate, compare, probe (what spaces know about a label), selection (CSV export), filter,
thumbs (thumbnails of image items), vectors (an item's vector, a pair taken apart, which is closer, analogies),
split (a tuned space's train and held-out parts)."""

from . import (
               clusters,
               columns,
               compare,
               compress,
               filter,
               health,
               info,
               items,
               layouts,
               probe,
               search,
               selection,
               split,
               thumbs,
               translate,
               vectors,
)

ROUTERS = (info.router, columns.router, layouts.router, clusters.router, items.router, compress.router,
           health.router, search.router, translate.router, compare.router, probe.router, selection.router,
           filter.router, thumbs.router, vectors.router, split.router)

__all__ = ["ROUTERS"]
