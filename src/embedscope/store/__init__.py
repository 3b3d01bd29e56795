"""The workspace's storage: the ``scope.json`` manifest, the LanceDB tables read at their recorded versions, the
write lock, model files and the embedding cache. :class:`~embedscope.store.workspace.Workspace` is the public API
every other part of embedscope uses; nothing outside this package touches the Lance connection or the manifest's
records directly."""
