"""The output stage's scheduler: steps that name what they need, run on a few threads.

:func:`run_steps` starts each :class:`Step` once the steps it needs are done,
on as many threads as it is given, in a stated order of preference (the
longest first), and says each as it ends with its seconds. A step marked
``atomic`` (one that locks the output folder) never runs beside another.

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
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def can_fork() -> bool:
    """Whether :class:`Forked` may fork now: POSIX, and no thread but this one."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


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
        gc.freeze()  # the child's collections leave the parent's objects (and pages) alone
        try:
            self._process.start()
        finally:
            gc.unfreeze()
        writer.close()

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


def _next(waiting: list[Step], done: dict, running: dict) -> Step | None:
    """The first waiting step whose needs are done (an atomic one: if no other is running)."""
    locked = any(step.atomic for step in running.values())
    ready = (s for s in waiting if all(n in done for n in s.needs))
    return next((s for s in ready if not (s.atomic and locked)), None)


def run_steps(
    steps: list[Step],
    say: Callable[[str], None],
    timings: dict[str, float],
    workers: int,
    first: tuple[str, ...] = (),
) -> None:
    """Run each step once its needs are done, on ``workers`` threads; say each as it ends.

    Parameters
    ----------
    steps : list of Step
    say : callable
        Called with one line per finished step: its label and seconds.
    timings : dict
        Filled with the seconds (wall time) of each step, by name.
    workers : int
        Threads to run on.
    first : tuple of str
        Step names in the order a free thread prefers them when ready; the
        steps not named follow in the order given.

    Raises
    ------
    BaseException
        What a step raised; the steps not yet started are cancelled.
    """
    done: dict[str, Any] = {}
    waiting = sorted(steps, key=lambda s: first.index(s.name) if s.name in first else len(first))
    running: dict[Future, Step] = {}

    def timed(step: Step, args: list[Any]) -> tuple[Any, float]:
        start = time.perf_counter()
        value = step.make(*args)
        return value, time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geoplan-out") as pool:
        while waiting or running:
            while len(running) < workers and (step := _next(waiting, done, running)):
                waiting.remove(step)
                running[pool.submit(timed, step, [done[n] for n in step.needs])] = step
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                step = running.pop(future)
                try:
                    done[step.name], seconds = future.result()
                except BaseException:
                    for other in running:
                        other.cancel()
                    raise
                timings[step.name] = seconds
                say(f"{step.label or '写出 ' + step.name}（{seconds:.1f} 秒）")
