"""Worker processes for a long batch: patients checked in parallel, results kept in input order.

A batch of a few hundred patients stays in this process: forking would cost more than it
saves. A longer one is cut into chunks that forked workers check while this process reads
ahead and writes; only a few chunks are in flight at once, so memory stays bounded, and each
result is handed back in the order its patient was read. Where `fork` is missing (Windows) or
unsafe (macOS), or one job is asked for, everything runs here, giving the same output.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from typing import Any, TypeVar

from ketcheck.errors import WorkerError

T = TypeVar("T")
R = TypeVar("R")

WORKERS_FROM = 256  # items read before workers start; a shorter run stays in this process
CHUNK = 32  # items per task: large enough to hide the hand-over, small enough to stay even
IN_FLIGHT = 3  # tasks queued per worker: one being checked, the next ones ready
MOST_JOBS = 4  # each worker holds its own caches; more than this buys little on a clinic's box
PARENT_POLL = 1.0  # seconds between a worker's looks at its parent, where prctl is missing

# The function each worker applies, set before the fork so every worker inherits its own copy
# (with its own caches) instead of receiving it pickled.
_WORK: list[Callable[[Any], Any]] = []


def default_jobs() -> int:
    """The CPUs this process may use, at most MOST_JOBS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MOST_JOBS))


def can_fork() -> bool:
    """Whether workers can be forked here (macOS lists fork but its system libraries break)."""
    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


def in_order(items: Iterable[T], work: Callable[[T], R], *, jobs: int) -> Iterator[R]:
    """`work` applied to each item, in item order; by `jobs` forked workers for a long run.

    An exception `work` raises comes out at its item, after every result before it, just as
    the same run in one process would give it; an exception reading `items` comes out after
    every result already under way. Leaving early (an error, Ctrl-C) stops the workers.
    """
    it = iter(items)
    head: list[T] = []
    try:
        head.extend(islice(it, WORKERS_FROM))
    except Exception:
        yield from map(work, head)  # what was read before a bad line still comes out
        raise
    if jobs <= 1 or len(head) < WORKERS_FROM or not can_fork():
        yield from map(work, head)
        yield from map(work, it)
        return
    # The first items are checked here, before the fork: every worker then starts with the
    # caches they filled (the common lines, the search tables) instead of filling its own.
    done: list[R] = []
    try:
        for item in head:
            done.append(work(item))
    except Exception:
        yield from done
        raise
    for stream in (sys.stdout, sys.stderr):
        # a child flushes the standard streams when it ends: nothing buffered may be copied
        if stream is not None:
            stream.flush()
    _WORK[:] = [work]
    pool = ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    try:
        yield from _pooled(pool, _chunks(it), window=jobs * IN_FLIGHT, first=done)
    finally:
        # Leaving early (an error, Ctrl-C, SIGTERM): chunks not started are dropped, and the
        # few being checked (a fraction of a second each) end before the workers do.
        pool.shutdown(wait=True, cancel_futures=True)
        _WORK.clear()


_Task = Future[tuple[list[R], BaseException | None]]


def _pooled(
    pool: ProcessPoolExecutor, chunks: Iterator[list[T]], *, window: int, first: list[R]
) -> Iterator[R]:
    """The results of `first`, then of every chunk, in order, a `window` of chunks in flight.

    `first` comes out once the first chunk is handed over: the workers are forked then, before
    whoever reads these results starts a thread (a progress bar) that a fork would copy.
    """
    pending: deque[_Task[R]] = deque()
    while True:
        try:
            chunk = next(chunks, None)
        except Exception:
            # a bad line in the input: what was read before it still comes out
            yield from _drain(first, pending)
            raise
        if chunk is None:
            break
        try:
            pending.append(pool.submit(_run_chunk, chunk))
        except BrokenProcessPool:  # a worker died: what the others finished still comes out
            yield from _drain(first, pending)
            raise _died() from None
        except OSError as exc:  # the workers are forked at the first hand-over: none to be had
            raise WorkerError(
                f"cannot start worker processes ({exc.strerror or exc}); use --jobs 1"
            ) from None
        if first:
            yield from first
            first = []
        while len(pending) >= window:
            yield from _results(pending.popleft())
    yield from _drain(first, pending)


def _drain(first: list[R], pending: deque[_Task[R]]) -> Iterator[R]:
    yield from first
    first.clear()
    while pending:
        yield from _results(pending.popleft())


def _results(task: _Task[R]) -> Iterator[R]:
    try:
        done, error = task.result()
    except BrokenProcessPool:
        raise _died() from None
    yield from done
    if error is not None:
        raise error


def _chunks(items: Iterator[T]) -> Iterator[list[T]]:
    while True:
        chunk: list[T] = []
        try:
            chunk.extend(islice(items, CHUNK))
        except Exception:
            if chunk:  # the items read before a bad line, then the error
                yield chunk
            raise
        if not chunk:
            return
        yield chunk


def _start_worker(parent: int) -> None:
    """A worker leaves Ctrl-C to the parent (which stops it), dies on SIGTERM or SIGHUP, and
    dies with its parent: a killed parent's workers would otherwise wait on their pipes forever,
    holding its stderr open (a caller reading it would hang) and the spill's unlinked file."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    if not _killed_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the worker could ask to die with it
        os._exit(1)


def _killed_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends (PR_SET_PDEATHSIG); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):  # no prctl in this C library
        return False


def _watch_parent(parent: int) -> None:
    """Where prctl is missing: end the worker once it is orphaned (re-parented to another)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def _run_chunk(chunk: list[Any]) -> tuple[list[Any], BaseException | None]:
    """The results of one chunk, up to the first item that raised, and what it raised."""
    work = _WORK[0]
    done: list[Any] = []
    for item in chunk:
        try:
            done.append(work(item))
        except Exception as exc:  # handed back to be raised in the parent, at its item
            return done, exc
    return done, None


def _died() -> WorkerError:
    return WorkerError(
        "a worker process ended before its patients were checked (killed, or out of memory); "
        "the output is incomplete"
    )
