"""The Ray runtime: Ray imported on first use, started in this process or joined at an address."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...errors import InputError, MissingDependencyError

#: CPUs and object store of the Ray runtime started when no ``address`` is given.
LOCAL_CPUS = 2
LOCAL_OBJECT_STORE_BYTES = 500 * 2**20


def import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as e:
        if getattr(e, "name", None) not in (None, "ray", "ray.data"):
            raise  # Ray is there but one of its own imports failed: show that, not "install Ray"
        raise MissingDependencyError("--engine ray", "ray", "ray[data]") from None
    try:
        import lance  # noqa: F401  (the staging datasets)
    except ImportError:
        raise MissingDependencyError("--engine ray", "ray", "pylance") from None
    return ray


class _DropLine(logging.Filter):
    """Drops log records whose message holds a given text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


@contextmanager
def ray_runtime(address: str | None = None) -> Iterator[Any]:
    """Connect to Ray for the duration of a step, and disconnect if this call connected.

    Parameters
    ----------
    address
        ``None``: reuse the runtime this process already has, else start one bound to 127.0.0.1 with
        :data:`LOCAL_CPUS` CPUs and a :data:`LOCAL_OBJECT_STORE_BYTES` object store. Else the address of a
        running cluster (``HOST:PORT`` or ``ray://HOST:PORT``; ``auto`` for the one ``ray start`` made here).

    Yields
    ------
    module
        The ``ray`` module.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "logging_level": logging.WARNING, "configure_logging": True}
    if address is None:
        kwargs.update(address="local", num_cpus=LOCAL_CPUS, object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                      _node_ip_address="127.0.0.1")
        # Ray turns 127.0.0.1 into the machine's routable address unless it thinks it is on a laptop, where a
        # one-node "cluster" stays on loopback; ask for that behaviour (this process and the ones it starts)
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        try:
            from ray._private import ray_constants

            ray_constants.ENABLE_RAY_CLUSTER = False
        except (ImportError, AttributeError):  # pragma: no cover - a Ray without this switch
            pass
    else:
        kwargs["address"] = address
    # the CLI runs commands in a worker thread (embedscope.interrupt), where Ray cannot set its SIGTERM handler and
    # says so: no news (a terminated driver's local runtime ends with it, its processes share its fate)
    quiet = _DropLine("current thread is not the main thread")
    logging.getLogger("ray._private.worker").addFilter(quiet)
    try:
        with warnings.catch_warnings():  # lance/lancedb warn about the raylet forked off this process
            warnings.simplefilter("ignore")
            ray.init(**kwargs)
    except ConnectionError as e:
        raise InputError(f"cannot reach the Ray cluster at {address!r}: {e}") from None
    finally:
        logging.getLogger("ray._private.worker").removeFilter(quiet)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield ray
    finally:
        ray.shutdown()
