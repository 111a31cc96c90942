"""Benchmark the conflict engine against geopandas.overlay on a city-scale plan.

Prints, per rule of the ``national`` pack: the engine's time (overlay,
slivers, township split, areas, ids), the time ``geopandas.overlay`` takes
for the same pairs (``intersection`` for overlap rules, ``difference`` for
within rules, against the buffered right side for distance rules), and the
ratio. ``geopandas.overlay`` on the dense rules runs for many minutes at
300,000 patches, so by default it is timed on a random sample of the left
features and scaled up linearly — the output says so. Then ``geoplan check``
end to end in a child process, with its wall time and peak memory (RSS).

Run::

    .venv/bin/python benchmarks/bench_engine.py --patches 300000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from citygen import DEFAULT_CACHE, ensure_city

from geoplan.analysis.engine import evaluate
from geoplan.analysis.prepare import prepare_inputs
from geoplan.analysis.rules import load_rules
from geoplan.analysis.selection import select
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project


def overlay_time(loaded, rule, sample: int, rng) -> tuple[float | None, str]:
    """Time geopandas.overlay on the rule's pairs; (seconds, how) or (None, why not)."""
    if rule.relation == "must_tile":
        return None, "n/a (no overlay equivalent)"
    left = select(loaded, rule.left).frame
    right = left if rule.right is None else select(loaded, rule.right).frame
    if len(left) == 0 or len(right) == 0:
        return None, "empty side"
    scale, how = 1.0, "full"
    if len(left) > sample:
        pick = np.sort(rng.choice(len(left), sample, replace=False))
        scale = len(left) / sample
        left = left.iloc[pick]
        how = f"sample {sample:,} of {len(left) * scale:,.0f}, scaled"
    if rule.relation == "must_keep_distance":
        right = right.set_geometry(right.buffer(rule.params["distance_m"]))
    op = "difference" if rule.relation == "must_be_within" else "intersection"
    start = time.perf_counter()
    gpd.overlay(left[["geometry"]], right[["geometry"]], how=op, keep_geom_type=True)
    return (time.perf_counter() - start) * scale, how


def end_to_end(project: Path) -> tuple[float, float]:
    """``geoplan check`` in a child process: (wall seconds, peak RSS in MB)."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).parent / "geoplan"),
                "-q",
                "check",
                str(project),
                "--out",
                out,
                "--fail-on",
                "never",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=300_000)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--overlay-sample",
        type=int,
        default=20_000,
        help="time geopandas.overlay on at most this many left features (0: skip it)",
    )
    args = parser.parse_args()

    project_file = ensure_city(args.patches, args.cache)
    start = time.perf_counter()
    loaded = load_project(read_project(project_file))
    load_s = time.perf_counter() - start
    farmland = len(loaded.frame("permanent_farmland"))
    print(
        f"city: {farmland:,} farmland patches; load (read, repair, reproject, areas) {load_s:.1f} s"
    )

    rules = load_rules(["national"])
    start = time.perf_counter()
    evaluation = evaluate(loaded, rules, prepared=prepare_inputs(loaded, rules))
    pack_s = time.perf_counter() - start
    rng = np.random.default_rng(0)
    print(
        "\nengine: geometry = the relation's overlay (the work geopandas.overlay does);"
        " total = with slivers, township split, ellipsoidal areas and ids"
    )
    header = f"{'rule':32} {'rows':>7} {'geometry s':>10} {'total s':>8} {'overlay s':>10}"
    print(f"{header} {'× geometry':>10} {'× total':>8}  overlay run")
    for result in evaluation.results:
        rule = result.rule
        if result.status != "evaluated":
            print(f"{rule.id:32} skipped: {result.reason}")
            continue
        if args.overlay_sample:
            seconds, how = overlay_time(loaded, rule, args.overlay_sample, rng)
        else:
            seconds, how = None, "skipped"
        ratios = (
            f"{seconds / result.geometry_seconds:9.1f}× {seconds / result.seconds:7.1f}×"
            if seconds
            else f"{'-':>10} {'-':>8}"
        )
        other = f"{seconds:10.2f}" if seconds else f"{'-':>10}"
        print(
            f"{rule.id:32} {result.conflicts:7,} {result.geometry_seconds:10.2f} "
            f"{result.seconds:8.2f} {other} {ratios}  {how}"
        )
    print(f"\nnational pack, engine total: {pack_s:.1f} s")

    seconds, peak_mb = end_to_end(project_file)
    print(f"geoplan check end to end: {seconds:.1f} s, peak memory {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
