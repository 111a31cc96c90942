"""``geoplan check`` in a child process with the memory of its processes sampled; a dask cluster.

Used by ``bench_province.py``: :func:`run_check` runs the check and samples
the resident memory (RSS) of its process tree — and of a separately started
cluster's processes — every :data:`SAMPLE_S` seconds with psutil;
:func:`started_cluster` starts a ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1 and shuts them down again.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
SAMPLE_S = 0.2
STARTUP_S = 120.0
SHUTDOWN_S = 30.0
LOCAL = ("--host", "127.0.0.1", "--no-dashboard")
ONE_THREAD = ("--nworkers", "1", "--nthreads", "1")


class BenchError(Exception):
    """A run failed or a cluster could not be started; the message says which."""


@dataclass
class Run:
    """One finished ``geoplan check``: its outputs, wall time and peak memory."""

    name: str
    out: Path
    seconds: float
    peaks: dict[str, int]  # process label → peak RSS, bytes
    total_bytes: int  # peak of the RSS of all the run's processes together

    @property
    def peak_bytes(self) -> int:
        """The largest peak RSS of any one process of the run, bytes."""
        return max(self.peaks.values())


def _role(process: psutil.Process, root: psutil.Process) -> str:
    command = process.cmdline()
    joined = " ".join(command)
    if "spawn_main" in joined:
        return "worker process"
    for helper in ("resource_tracker", "forkserver", "semaphore_tracker"):
        if helper in joined:
            return helper
    if command == root.cmdline():
        return "forked child"
    return process.name()


class _Sampler(threading.Thread):
    """RSS of every process of some process trees, every :data:`SAMPLE_S` seconds."""

    def __init__(self, roots: dict[str, psutil.Process]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.peaks: dict[tuple[str, int], int] = {}
        self.labels: dict[tuple[str, int], str] = {}
        self.total = 0
        self._done = threading.Event()

    def _sample(self) -> None:
        total = 0
        for label, root in self.roots.items():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for process in tree:
                key = (label, process.pid)
                try:
                    rss = process.memory_info().rss
                    if key not in self.labels:
                        role = "" if process is root else f": {_role(process, root)}"
                        self.labels[key] = f"{label}{role} (pid {process.pid})"
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += rss
                self.peaks[key] = max(self.peaks.get(key, 0), rss)
        self.total = max(self.total, total)

    def run(self) -> None:
        while True:
            self._sample()
            if self._done.wait(SAMPLE_S):
                return

    def stop(self) -> dict[str, int]:
        """Stop sampling; peak RSS by process label, bytes, in order of discovery."""
        self._done.set()
        self.join()
        return {self.labels[key]: peak for key, peak in self.peaks.items()}


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(nothing on stderr)"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(SHUTDOWN_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_check(
    name: str,
    project: Path,
    flags: list[str],
    folder: Path,
    cluster: dict[str, psutil.Process] | None = None,
) -> Run:
    """``geoplan check PROJECT --out FOLDER/out --fail-on never FLAGS``, sampled.

    Parameters
    ----------
    name : str
        The run's name in the output.
    project : pathlib.Path
        Project file.
    flags : list of str
        More arguments of ``geoplan check`` (``--workers 2`` …).
    folder : pathlib.Path
        Created; gets ``out/`` and the child's ``stdout.txt``, ``stderr.txt``.
    cluster : dict of str to psutil.Process, optional
        Processes of a separately started cluster, sampled with the check.

    Returns
    -------
    Run

    Raises
    ------
    BenchError
        The check exited with another status than 0.
    """
    folder.mkdir(parents=True)
    log = folder / "stderr.txt"
    command = [str(BIN / "geoplan"), "check", str(project), "--out", str(folder / "out")]
    command += ["--fail-on", "never", *flags]
    print(f"\n{name}: {' '.join(command[1:])}", flush=True)
    with log.open("w") as err, (folder / "stdout.txt").open("w") as out:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err)
        try:
            sampler = _Sampler({"client": psutil.Process(child.pid), **(cluster or {})})
            sampler.start()
            code = child.wait()
            seconds = time.perf_counter() - start
            peaks = sampler.stop()
        finally:
            _stop(child)
    if code != 0:
        raise BenchError(f"the {name} run failed (exit {code}): {_last_line(log)} (log: {log})")
    return Run(name, folder / "out", seconds, peaks, sampler.total)


def _start(command: list[str], log: Path) -> subprocess.Popen:
    with log.open("w") as err:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)


def _wait_for(process: subprocess.Popen, log: Path, pattern: str, what: str) -> re.Match:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found
        if process.poll() is not None:
            raise BenchError(f"{what} exited ({process.returncode}): {_last_line(log)}")
        time.sleep(0.2)
    raise BenchError(f"{what} did not start in {STARTUP_S:.0f} s: {_last_line(log)}")


@contextmanager
def started_cluster(folder: Path) -> Iterator[tuple[str, dict[str, psutil.Process]]]:
    """A ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1.

    Yields the scheduler's address and the processes by label (a ``dask
    worker`` process is the nanny of its worker process); on leaving,
    the workers and then the scheduler are sent SIGTERM (they close
    gracefully), killed only when still running after :data:`SHUTDOWN_S`,
    and how each ended is printed.
    """
    folder.mkdir(parents=True)
    started: dict[str, subprocess.Popen] = {}
    try:
        log = folder / "scheduler.txt"
        started["scheduler"] = _start(
            [str(BIN / "dask"), "scheduler", *LOCAL, "--port", "0"],
            log,
        )
        found = _wait_for(
            started["scheduler"], log, r"Scheduler at:\s+(tcp://\S+)", "dask scheduler"
        )
        address = found.group(1)
        for n in (1, 2):
            started[f"dask worker {n}"] = _start(
                [str(BIN / "dask"), "worker", address, *LOCAL, *ONE_THREAD],
                folder / f"worker{n}.txt",
            )
        for n in (1, 2):
            name = f"dask worker {n}"
            _wait_for(started[name], folder / f"worker{n}.txt", r"Registered to", name)
        print(f"\ncluster: scheduler {address}, 2 workers (1 thread each) on 127.0.0.1")
        yield address, {name: psutil.Process(p.pid) for name, p in started.items()}
    finally:
        ended = []
        for name, process in reversed(started.items()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                ended.append(f"{name} exit {process.wait(SHUTDOWN_S)}")
            except subprocess.TimeoutExpired:
                process.kill()
                ended.append(f"{name} killed after {SHUTDOWN_S:.0f} s")
        print(f"  cluster shut down: {', '.join(ended)}")
