"""Where a file job's batches run: one after another in this process, or on a Dask cluster.

The jobs of :mod:`customer_equity.files` (``measure``, ``forecast``) hand an executor a task
``task(raw_batch, *args)`` and take its results back in input order, whichever executor it is:

==============  ==============================================================================
:class:`Local`  the batches of the source, one after another, in this process
:class:`Dask`   the partitions of the source (``dask.dataframe``), on a local cluster of worker
                processes (:func:`local_cluster`) or on the scheduler at an address
==============  ==============================================================================

Progress. A job takes ``progress``, a factory of progress bars that the command gives
(:mod:`customer_equity.cli` draws them with tqdm): ``progress(total, desc, unit)`` returns a
context manager whose value has ``update(n)``, or None for no bar. :func:`bar` is how a job
opens one, with or without a factory.
"""

from __future__ import annotations

import contextlib
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, ContextManager

from ..errors import CustomerEquityError

__all__ = ["Local", "Dask", "local_cluster", "Progress", "bar"]

#: ``progress(total, desc, unit)``: a context manager giving a bar with ``update(n)``, or None.
Progress = Callable[[Any, str, str], ContextManager[Any]]


def bar(progress: Progress | None, total, desc: str, unit: str = " customers") -> ContextManager[Any]:
    """The progress bar of one step: the factory's, or none (a context giving None).

    >>> with bar(None, 10, "reading") as b:
    ...     b is None
    True
    """
    if progress is None:
        return contextlib.nullcontext(None)
    return progress(total, desc, unit)


class Local:
    """Batches of ``source`` run one after another in this process."""

    def __init__(self, source, batch_size: int):
        self.source, self.batch_size = source, batch_size

    def map(self, task: Callable, *args) -> Iterator:
        """``task(batch, *args)`` for each batch, in input order."""
        for raw in self.source.batches(self.batch_size):
            yield task(raw, *args)

    def close(self) -> None:
        pass


def local_cluster(workers: int | None = None):
    """A local Dask cluster of worker processes with one thread each (``--dask`` without an
    address)."""
    import dask
    from distributed import LocalCluster

    # Dask sets MALLOC_TRIM_THRESHOLD_ for its workers; setting it turns off glibc's adaptive
    # mmap threshold, so that every large numpy array is mapped and faulted in afresh: the
    # forecast's batch and part tasks ran twice as slow as in one process.
    with warnings.catch_warnings(), dask.config.set(
            {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        warnings.simplefilter("ignore")
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            host="127.0.0.1", dashboard_address=None)


class Dask:
    """Partitions of ``source`` run on a Dask cluster, results taken back in input order.

    ``address`` None or ``"local"`` starts a local cluster of ``workers`` processes; otherwise
    it is the scheduler's address (``tcp://host:8786``), whose workers must reach the source.
    ``client``, ``frame`` (the source as a ``dask.dataframe``) and ``delayed`` are there for a
    job that shapes its own task graph (the forecast's group-by).
    """

    def __init__(self, source, batch_size: int, address: str | None = None, workers: int | None = None):
        try:
            import dask
            from distributed import Client
        except ImportError:
            raise CustomerEquityError("--dask", "needs dask and distributed: pip install "
                                      "'customer-equity[cluster]'") from None
        self.source, self.batch_size = source, batch_size
        self.delayed = dask.delayed
        self.cluster = None
        if address in (None, "local"):
            self.cluster = local_cluster(workers)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout="20s")
            except (OSError, TimeoutError, ValueError) as err:
                raise CustomerEquityError("--dask", f"cannot reach the Dask scheduler: {err}",
                                          value=address) from None
        self.frame = source.dask_frame(batch_size)
        self.window = max(2, 2 * len(self.client.nthreads()))

    def map(self, task: Callable, *args) -> Iterator:
        """``task(partition, *args)`` for each partition, in input order, at most
        :attr:`window` at a time on the cluster (so that results never pile up in memory)."""
        tasks = [self.delayed(task, pure=False)(p, *args) for p in self.frame.to_delayed()]
        pending = deque()
        todo = iter(tasks)
        for t in todo:
            pending.append(self.client.compute(t))
            if len(pending) >= self.window:
                break
        while pending:
            future = pending.popleft()
            try:
                result = future.result()
            except (ValueError, TypeError, OSError) as err:
                raise CustomerEquityError(self.source.name, f"cannot read on the cluster: {err}") from None
            finally:
                future.release()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(self.client.compute(nxt))
            yield result

    def close(self) -> None:
        # closing a client or a cluster that is already gone raises whatever its transport
        # raises; there is nothing left to release then
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


def executor(source, batch_size: int, dask: str | None = None, workers: int | None = None):
    """:class:`Dask` when ``dask`` is given (``"local"`` or an address), else :class:`Local`."""
    if dask:
        return Dask(source, batch_size, dask, workers)
    return Local(source, batch_size)
