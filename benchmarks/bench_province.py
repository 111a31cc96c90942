"""Benchmark ``geoplan check`` on a synthetic province: one process, dask workers, a cluster.

Builds (or re-uses) the province of ``provincegen`` (several synthetic cities
side by side, at least ``--patches`` farmland patches) and runs
``geoplan check PROJECT --out TMP --fail-on never`` as a child process:

- ``single``: in one process, as without the cluster flags;
- ``workers1``, ``workers2``: ``--workers 1`` / ``--workers 2`` (a dask
  LocalCluster the check starts);
- ``cluster``: ``--scheduler tcp://127.0.0.1:PORT`` against a ``dask
  scheduler`` and two ``dask worker --nworkers 1 --nthreads 1`` started here
  as separate processes (the multi-machine shape on one machine) and shut
  down afterwards.

For each run it prints the wall time and the peak resident memory (RSS) of
every process of the run — the check (client), its worker processes, the
scheduler and workers (nanny and worker process) of ``cluster`` — sampled
with psutil every 0.2 s, the maximum per process, over all of them and of
their sum; MB = 2²⁰ bytes. Each run's conflicts.gpkg (the same conflict
ids, every column equal, numbers — areas in m² — to 1e-6) and report.json
``summary`` (but the rules' run times) are compared with the first run's,
the one-process run when it is run. Above 1,200,000 patches that run is
skipped when it would not fit: its peak is estimated by a one-process check
of one 300,000-patch city scaled by the patch count and must stay under
70 % of the memory available. A failed run is reported (its last stderr
line) and the others still run; the script then exits 1. Last, the issue's
targets on a 2-core machine: ``workers2`` with no process above 4 GB
(4,096 MB) and at least 1.7× faster than ``workers1``, each met or not met.

Run::

    .venv/bin/python benchmarks/bench_province.py                    # 3,000,000 patches
    .venv/bin/python benchmarks/bench_province.py --patches 200000 --cities 2
    .venv/bin/python benchmarks/bench_province.py --only workers2 --only cluster --skip-single
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).parent))

from citygen import DEFAULT_CACHE
from provincegen import ensure_province
from sampled_runs import BenchError, Run, run_check, started_cluster

RUNS = ("single", "workers1", "workers2", "cluster")
MB = 2**20
#: The issue's targets for ``workers2`` on this 2-core machine.
MAX_PROCESS_MB = 4096
MIN_SPEED_UP = 1.7
#: Share of the available memory a one-process run may be estimated to take.
MEMORY_HEADROOM = 0.7
#: A province up to this many patches is checked in one process without an
#: estimate; above it, the estimate is a one-process check of one 300,000-patch city.
ESTIMATE_ABOVE = 1_200_000
#: Areas (m²) and other numbers of the outputs compared absolutely to this;
#: report.json's sums also to 1e-12 relative (the same sum in another order).
TOLERANCE = 1e-6
#: Keys of report.json's summary that time the run rather than describe the result.
RUN_TIMES = frozenset({"seconds"})


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _conflicts(path: Path) -> pd.DataFrame:
    frame = pyogrio.read_dataframe(path, layer="conflicts")
    geometry = frame.geometry.values
    frame = pd.DataFrame(frame.drop(columns="geometry"))
    frame["geometry_area_m2"] = shapely.area(geometry)
    for i, side in enumerate(("minx", "miny", "maxx", "maxy")):
        frame[f"geometry_{side}"] = shapely.bounds(geometry)[:, i]
    return frame.set_index("conflict_id").sort_index()


def _compare_conflicts(ref: Path, other: Path) -> list[str]:
    a, b = _conflicts(ref), _conflicts(other)
    if not a.index.is_unique or not b.index.is_unique:
        return ["conflicts.gpkg: conflict ids repeat"]
    if not a.index.equals(b.index):
        only_a, only_b = a.index.difference(b.index), b.index.difference(a.index)
        return [
            f"conflicts.gpkg: {len(a):,} vs {len(b):,} conflicts, {len(only_a):,} ids only in "
            f"the reference (e.g. {list(only_a[:2])}), {len(only_b):,} only in this run "
            f"(e.g. {list(only_b[:2])})"
        ]
    if list(a.columns) != list(b.columns):
        return [f"conflicts.gpkg: columns {list(a.columns)} vs {list(b.columns)}"]
    found = []
    for column in a.columns:
        x, y = a[column], b[column]
        if pd.api.types.is_numeric_dtype(x):
            bad = ~np.isclose(x, y, rtol=0.0, atol=TOLERANCE, equal_nan=True)
            worst = f", by up to {np.nanmax(np.abs(x[bad] - y[bad])):.3g}" if bad.any() else ""
        else:
            bad = (x.fillna("").astype(str) != y.fillna("").astype(str)).to_numpy()
            worst = ""
        if bad.any():
            first = a.index[bad][0]
            found.append(
                f"conflicts.gpkg {column}: {bad.sum():,} rows differ{worst} "
                f"(e.g. {first}: {_plain(x[first])!r} vs {_plain(y[first])!r})"
            )
    return found


def _compare_json(a: object, b: object, where: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a.keys() ^ b.keys())} in one only"]
        return [
            d for k in a if k not in RUN_TIMES for d in _compare_json(a[k], b[k], f"{where}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _compare_json(x, y, f"{where}[{i}]")
        ]
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        if abs(a - b) <= max(TOLERANCE, 1e-12 * abs(a)):
            return []
    elif a == b:
        return []
    return [f"{where}: {a!r} vs {b!r}"]


def compare_outputs(ref: Path, other: Path) -> list[str]:
    """How the outputs in ``other`` differ from those in ``ref`` (empty: equal).

    conflicts.gpkg: the same conflict ids, every column equal (numbers to
    :data:`TOLERANCE`: areas in m²), the geometries' planar areas (m²) and
    bounds (m) too; report.json: ``summary`` equal but for the rules' run
    times, numbers to :data:`TOLERANCE` or 1e-12 relative.
    """
    try:
        found = _compare_conflicts(ref / "conflicts.gpkg", other / "conflicts.gpkg")
        summaries = [json.loads((o / "report.json").read_text())["summary"] for o in (ref, other)]
    except (OSError, pyogrio.errors.DataSourceError, KeyError, ValueError) as error:
        raise BenchError(f"cannot compare the outputs in {ref} and {other}: {error}") from None
    return found + _compare_json(*summaries, "report.json summary")


def _patches(project: Path) -> int:
    return sum(json.loads((project.parent / "province.json").read_text())["farmland_patches"])


def _single_fits(patches: int, cache: Path, work: Path) -> tuple[bool, str]:
    """Whether a one-process check of ``patches`` patches fits in memory, and why."""
    if patches <= ESTIMATE_ABOVE:
        return True, f"run without an estimate (at most {ESTIMATE_ABOVE:,} patches)"
    small = ensure_province(300_000, 1, cache)
    run = run_check("estimate", small, [], work / "estimate")
    shutil.rmtree(run.out)
    estimate = run.peak_bytes / _patches(small) * patches
    available = psutil.virtual_memory().available
    why = (
        f"estimated peak {estimate / MB:,.0f} MB (one process on {_patches(small):,} patches: "
        f"{run.peak_bytes / MB:,.0f} MB, scaled by the patches), "
        f"{available / MB:,.0f} MB available"
    )
    return estimate <= MEMORY_HEADROOM * available, why


def _print_run(run: Run) -> None:
    rows = [*run.peaks.items(), ("any one process", run.peak_bytes)]
    rows.append(("all processes together", run.total_bytes))
    width = max(len(label) for label, _ in rows)
    load = os.getloadavg()[0]
    print(
        f"\n{run.name}: {run.seconds:,.1f} s wall (load average over the last minute: {load:.1f})"
    )
    for label, peak in rows:
        print(f"  peak RSS {label:{width}} {peak / MB:9,.0f} MB")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _targets(runs: dict[str, Run]) -> None:
    print("\ntargets (issue 18, 2-core machine):")
    two = runs.get("workers2")
    if two is None:
        print("  workers2 not run: no target judged")
        return
    ok = two.peak_bytes <= MAX_PROCESS_MB * MB
    print(
        f"  --workers 2, no process above {MAX_PROCESS_MB:,} MB: largest "
        f"{two.peak_bytes / MB:,.0f} MB — {_met(ok)}"
    )
    one = runs.get("workers1")
    if one is None:
        print("  speed-up: workers1 not run")
        return
    speed_up = one.seconds / two.seconds
    print(
        f"  --workers 2 at least {MIN_SPEED_UP}× faster than --workers 1: "
        f"{one.seconds:,.1f} s / {two.seconds:,.1f} s = {speed_up:.2f}× — "
        f"{_met(speed_up >= MIN_SPEED_UP)}"
    )


def benchmark(args: argparse.Namespace, work: Path) -> None:
    """Generate the province, run the chosen checks, compare and judge them."""
    project = ensure_province(args.patches, args.cities, args.cache)
    patches = _patches(project)
    print(f"province: {patches:,} farmland patches, {project}")
    memory = psutil.virtual_memory()
    print(
        f"machine: {psutil.cpu_count()} cores, {memory.total / MB:,.0f} MB "
        f"({memory.available / MB:,.0f} MB available), load average {os.getloadavg()[0]:.1f}, "
        f"started {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    chosen = [name for name in RUNS if name in (args.only or RUNS)]
    if "single" in chosen and args.skip_single:
        chosen.remove("single")
        print("single: skipped (--skip-single)")
    elif "single" in chosen:
        fits, why = _single_fits(patches, args.cache, work)
        if not fits:
            chosen.remove("single")
            print(f"single: skipped, it would not fit in memory: {why}")
        else:
            print(f"single: {why}")

    runs: dict[str, Run] = {}
    failed: list[str] = []
    reference: Run | None = None
    for name in chosen:
        try:
            run = _run(name, project, work)
        except BenchError as error:
            print(f"  FAILED: {error}")
            failed.append(name)
            continue
        runs[name] = run
        _print_run(run)
        if reference is None:
            reference = run
            continue
        found = compare_outputs(reference.out, run.out)
        conflicts = json.loads((run.out / "report.json").read_text())["summary"]["conflicts"]
        verdict = (
            f"equal ({conflicts:,} conflicts: same ids, values to {TOLERANCE:g}; summary equal)"
            if not found
            else f"DIFFERENT in {len(found)} places: " + "; ".join(found[:5])
        )
        print(f"  result vs {reference.name}: {verdict}")
        shutil.rmtree(run.out)
    _targets(runs)
    if failed:
        raise BenchError(f"{len(failed)} of {len(chosen)} runs failed: {', '.join(failed)}")


def _run(name: str, project: Path, work: Path) -> Run:
    if name == "single":
        return run_check(name, project, [], work / name)
    if name == "cluster":
        with started_cluster(work / "cluster-logs") as (address, processes):
            return run_check(name, project, ["--scheduler", address], work / name, processes)
    return run_check(name, project, ["--workers", name[-1]], work / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=3_000_000)
    parser.add_argument("--cities", type=int, help="default: one per 300,000 patches")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--skip-single", action="store_true", help="leave out the one-process run")
    parser.add_argument("--only", action="append", choices=RUNS, help="run only these (repeatable)")
    parser.add_argument(
        "--work", type=Path, help="folder for the runs' outputs (default: a temporary one)"
    )
    args = parser.parse_args()
    if args.patches < 1 or (args.cities is not None and args.cities < 1):
        parser.error("--patches and --cities must be positive")
    # a stop by SIGTERM (or SIGINT, ignored in background jobs) still stops the children
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench_province: terminated"))
    try:
        if args.work:
            args.work.mkdir(parents=True, exist_ok=True)
            benchmark(args, Path(tempfile.mkdtemp(dir=args.work)))
        else:
            with tempfile.TemporaryDirectory(prefix="bench-province-") as work:
                benchmark(args, Path(work))
    except (BenchError, OSError) as error:
        keep = "" if args.work else " (--work DIR keeps the runs' logs)"
        sys.exit(f"bench_province: error: {error}{keep}")
    except KeyboardInterrupt:
        sys.exit("bench_province: interrupted")


if __name__ == "__main__":
    main()
