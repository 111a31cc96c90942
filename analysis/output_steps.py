"""The output stage's scheduler: steps that name what they need, run on a few threads.

:func:`run_steps` starts each :class:`Step` once the steps it needs are done,
on as many threads as it is given, in a stated order of preference (the
longest first), and says each as it ends with its seconds. A step marked
``atomic`` (one that locks the output folder) never runs beside another.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any


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
