"""The steps a :class:`embedscope.scope.Scope` runs, as functions over its public API (typed by
:class:`.base.ScopeLike`): :mod:`.items` (items and user vectors in), :mod:`.embed` (spaces from texts, query
embedders), :mod:`.graph` (kNN graph, neighbours, arithmetic), :mod:`.layouts` (projections and their honesty),
:mod:`.clusters`."""
