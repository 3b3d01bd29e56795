"""Where the heavy steps run: one :class:`~embedscope.engines.base.Engine` interface, chosen by name.

``local`` (:mod:`.local`) runs them in this process; ``ray`` (:mod:`.ray`) on a Ray cluster.
"""

from __future__ import annotations

from .base import Engine

#: The engine names, in the order the "unknown engine" message lists them.
ENGINES: tuple[str, ...] = ("local", "ray")

__all__ = ["ENGINES", "Engine", "get_engine"]


def get_engine(name: str, address: str | None = None) -> Engine:
    """The engine called ``name``.

    Parameters
    ----------
    name
        ``local`` or ``ray``.
    address
        The Ray cluster's address (``None``: a local runtime on 127.0.0.1); not used by ``local``.

    Raises
    ------
    InputError
        For an unknown name.
    """
    from ..errors import InputError

    if name == "local":
        from .local import LocalEngine

        return LocalEngine()
    if name == "ray":
        from .ray import RayEngine

        return RayEngine(address)
    raise InputError(f"unknown engine {name!r}; use {' or '.join(ENGINES)}")
