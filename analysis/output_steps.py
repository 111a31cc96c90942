"""The output stage's scheduler: steps that name what they need, run on a few threads.

:func:`run_steps` starts each :class:`Step` once the steps it needs are done,
on as many threads as it is given, in a stated order of preference (the
longest first), and says each as it ends with its seconds. A step marked
``atomic`` (one that locks the output folder) never runs beside another;
the steps naming the same ``child`` run one after another in a process
forked for them once what they need is done.

:class:`Forked` runs work in a child process forked at once, to be collected
later: threads share one interpreter lock, so a rendering that is Python
through and through (the map) takes as long beside the report model as after
it, and forked it does not. A process is forked only while it runs no other
thread (:func:`can_fork`): the child keeps only the forking thread, and an
object another thread held, freed in the child, or a lock it held, would
hang it.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing import connection
from multiprocessing.connection import Connection
from typing import Any

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


#: Threads a process may hold and still fork: dask.distributed's offload pool, left
#: after a cluster run's client has closed. Idle, they wait on their queue holding no
#: lock a child could need, and nothing in a child uses them.
_IDLE_THREADS = ("Dask-Offload",)


def can_fork() -> bool:
    """Whether :class:`Forked` may fork now: POSIX, and no thread but this one (or idle pools)."""
    others = [
        t
        for t in threading.enumerate()
        if t is not threading.current_thread() and not t.name.startswith(_IDLE_THREADS)
    ]
    return "fork" in multiprocessing.get_all_start_methods() and not others


def _return_free_memory() -> None:
    """Give the memory freed since the check's results came back to the system (glibc).

    A child is forked with every page its parent holds; pages of objects
    freed but kept by the allocator (the partitions' results, once taken)
    would count in each child's memory as well.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to give back
        ctypes.CDLL(None).malloc_trim(0)


class ForkedStepError(RuntimeError):
    """A forked child ended without a result (killed, or out of memory)."""


def _child(make: Callable[[], Any], writer: Connection) -> None:
    """In the child: make the value and send it, or the error raised."""
    with contextlib.suppress(OSError, AttributeError):  # Linux: end with the parent
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    try:
        result: tuple[str, Any] = ("value", make())
    except BaseException as error:  # sent to the parent, which raises it
        result = ("error", error)
    try:
        writer.send(result)
    except Exception as error:  # a value or an error that does not pickle
        writer.send(("error", ForkedStepError(f"{type(error).__name__}: {error}")))
    writer.close()


class Forked:
    """``make()`` in a child process forked now (see :func:`can_fork`).

    The child reads what the parent holds from the memory it was forked
    with, writes its files itself and sends back its value, pickled, or the
    error it raised.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        context = multiprocessing.get_context("fork")
        self._reader, writer = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(make, writer), daemon=True)
        _return_free_memory()
        gc.freeze()  # the child's collections leave the parent's objects (and pages) alone
        try:
            self._process.start()
        finally:
            gc.unfreeze()
        writer.close()

    def fileno(self) -> int:
        """The pipe the child answers on (readable once it has, or has ended): for ``wait``."""
        return self._reader.fileno()

    def result(self) -> Any:
        """Wait for the child; its value.

        Raises
        ------
        BaseException
            What ``make`` raised (a :class:`geo.errors.GeoplanError` stays one).
        ForkedStepError
            The child ended without a result.
        """
        try:
            kind, value = self._reader.recv()
        except EOFError:
            self._process.join()
            raise ForkedStepError(
                f"the output process ended without a result (exit status {self._process.exitcode})"
            ) from None
        self._process.join()
        if kind == "error":
            raise value
        return value

    def close(self) -> None:
        """End the child if it still runs (the stage failed), and wait for it."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._reader.close()


@dataclass(frozen=True)
class Step:
    """One output step: what it makes, from the results of the steps it needs."""

    name: str  # the file written, or what is made for later steps
    make: Callable[..., Any]  # called with the results of ``needs``, in order
    needs: tuple[str, ...] = ()
    label: str | None = None  # the progress line; "写出 <name>" by default
    atomic: bool = False  # through geo.outputs.atomic_output: locks the folder, one at a time
    child: str | None = None  # steps naming the same child run in one forked process


def _next(waiting: list[Step], done: dict, running: dict) -> Step | None:
    """The first waiting step whose needs are done (an atomic one: if no other is running)."""
    locked = any(step.atomic for step in running.values())
    ready = (s for s in waiting if all(n in done for n in s.needs))
    return next((s for s in ready if not (s.atomic and locked)), None)


def _children(steps: list[Step]) -> dict[str, list[Step]]:
    """The steps of each child, in the order given (each after the steps of it that it needs)."""
    children: dict[str, list[Step]] = {}
    for step in steps:
        if step.child is None:
            continue
        if step.atomic:
            raise ValueError(f"{step.name}: an atomic step cannot run in a child process")
        before = {s.name for s in children.get(step.child, [])}
        later = {s.name for s in steps if s.child == step.child} - before - {step.name}
        if later & set(step.needs):
            raise ValueError(f"{step.name}: needs a step given after it in child {step.child}")
        children.setdefault(step.child, []).append(step)
    return children


def _outside(members: list[Step]) -> set[str]:
    """What the steps of a child need from steps outside it."""
    return {n for s in members for n in s.needs} - {s.name for s in members}


def _leading(steps: list[Step], children: dict[str, list[Step]]) -> set[str] | None:
    """The steps that the children yet to fork need, directly or not (None: no child waits)."""
    if not children:
        return None
    by_name = {s.name: s for s in steps}
    leading: set[str] = set()
    todo = [n for members in children.values() for n in _outside(members)]
    while todo:
        if (name := todo.pop()) not in leading:
            leading.add(name)
            todo += by_name[name].needs
    return leading


def _in_child(members: list[Step], done: dict[str, Any], wanted: set[str]) -> dict[str, tuple]:
    """In the child: each step made in turn; its value (if ``wanted``) and seconds, by name."""
    values = dict(done)
    made = {}
    for step in members:
        start = time.perf_counter()
        values[step.name] = step.make(*[values[n] for n in step.needs])
        made[step.name] = (
            values[step.name] if step.name in wanted else None,
            time.perf_counter() - start,
        )
    return made


def run_steps(
    steps: list[Step],
    say: Callable[[str], None],
    timings: dict[str, float],
    workers: int,
    first: tuple[str, ...] = (),
) -> None:
    """Run each step once its needs are done, on ``workers`` threads; say each as it ends.

    The steps naming a ``child`` run one after another in a process forked
    for them (:class:`Forked`) once the steps they need from outside it are
    done; Python through and through, they would otherwise wait for the
    interpreter lock beside the thread steps. Until every child is forked,
    only the steps the children need start, and the threads end before a
    fork (:func:`can_fork`): a fork beside a GDAL write can hang in the
    child, in a fork handler of a library that write holds a lock of
    (PROJ's SQLite). Where the process cannot fork, the children's steps
    run on the threads too.

    Parameters
    ----------
    steps : list of Step
    say : callable
        Called with one line per finished step: its label and seconds.
    timings : dict
        Filled with the seconds (wall time) of each step, by name (a child's
        steps: each as the child timed it).
    workers : int
        Threads to run on.
    first : tuple of str
        Step names in the order a free thread prefers them when ready; the
        steps not named follow in the order given.

    Raises
    ------
    BaseException
        What a step raised; the steps not yet started are cancelled, the
        children still running ended.
    """
    names = {s.name for s in steps}
    if unknown := sorted({n for s in steps for n in s.needs} - names):
        raise ValueError(f"steps need steps that are not given: {', '.join(unknown)}")
    children = _children(steps) if can_fork() else {}
    by_preference = sorted(
        steps, key=lambda s: first.index(s.name) if s.name in first else len(first)
    )
    waiting = [s for s in by_preference if s.child not in children]
    done: dict[str, Any] = {}
    running: dict[Future, Step] = {}
    forked: dict[Forked, list[Step]] = {}
    wake_reader, wake_writer = os.pipe()  # a thread step ended
    pool: ThreadPoolExecutor | None = None

    def finish(step: Step, value: Any, seconds: float) -> None:
        done[step.name] = value
        timings[step.name] = seconds
        say(f"{step.label or '写出 ' + step.name}（{seconds:.1f} 秒）")

    def timed(step: Step, args: list[Any]) -> tuple[Any, float]:
        start = time.perf_counter()
        value = step.make(*args)
        return value, time.perf_counter() - start

    def fork(members: list[Step]) -> None:
        inside = {s.name for s in members}
        wanted = {n for s in steps if s.name not in inside for n in s.needs} & inside
        given = {n: done[n] for n in _outside(members)}
        forked[Forked(partial(_in_child, members, given, wanted))] = members

    try:
        while waiting or running or children or forked:
            ready = next((c for c, m in children.items() if _outside(m) <= done.keys()), None)
            if ready is not None and not running:
                if pool is not None:
                    pool.shutdown()
                    pool = None
                members = children.pop(ready)
                if can_fork():
                    fork(members)
                else:  # a thread not ours runs: the child's steps run on the threads
                    waiting += members
                continue
            leading = _leading(steps, children)
            startable = [s for s in waiting if leading is None or s.name in leading]
            while (
                ready is None
                and len(running) < workers
                and (step := _next(startable, done, running))
            ):
                startable.remove(step)
                waiting.remove(step)
                pool = pool or ThreadPoolExecutor(workers, thread_name_prefix="geoplan-out")
                future = pool.submit(timed, step, [done[n] for n in step.needs])
                future.add_done_callback(lambda _: os.write(wake_writer, b"."))
                running[future] = step
            if not running and not forked:
                raise ValueError("steps wait for each other: " + ", ".join(s.name for s in waiting))
            woken = connection.wait([wake_reader, *forked])
            if wake_reader in woken:
                os.read(wake_reader, 4096)
            for future in [f for f in running if f.done()]:
                finish(running.pop(future), *future.result())
            for child in [c for c in forked if c in woken]:
                made = child.result()
                for step in forked.pop(child):
                    finish(step, *made[step.name])
                child.close()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        for child in forked:
            child.close()
        os.close(wake_reader)
        os.close(wake_writer)
