"""Stage times of a whole check: load, prepare, evaluate, and each output it writes.

Runs :func:`analysis.run.check_project` in process on the demo and on the
city-scale benchmark set, timing its stages from its progress lines (load
until the first "preparing" or rule line, prepare until the first rule,
rules until the next line, then terrain and targets, then the land classes
taken), then
:func:`analysis.output_stage.write_outputs_into` into a temporary folder,
timing each step (wall time of the step on its thread; steps run
concurrently, so they add up to more than the stage). Prints the output
stage's wall time and its ratio to the rule evaluation, the figure issue 15
asks to keep at or under 1.

    .venv/bin/python benchmarks/bench_outputs.py [--patches 300000] [--skip-city] [--workers 2]
        [--without-map]

``--without-map`` runs the output stage a second time without ``map.html``
and prints that wall time and its ratio to the rule evaluation too.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from citygen import DEFAULT_CACHE, ensure_city

from geoplan.analysis.output_stage import _FIRST, WORKERS, ExportOptions, _steps, write_outputs_into
from geoplan.analysis.output_steps import run_steps
from geoplan.analysis.run import CheckOptions, check_project
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.project import read_project
from geoplan.maps.basemaps import NO_BASEMAP

# progress lines of check_project that open a stage; any other line after the
# rules opens the stage after them (terrain, targets)
_STAGES = (("preparing ", "prepare"), ("[", "evaluate rules"), ("land classes", "land classes"))
_AFTER = "terrain, targets"


def cpu_seconds() -> float:
    """CPU time (s) of this process's threads and of its children that ended."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def check_stages(project: Path) -> tuple[object, dict[str, float], float]:
    """Run the check; its result, each stage's seconds, the rule evaluation's CPU seconds.

    The stages are timed from the check's progress lines.
    """
    marks: list[tuple[str, float, float]] = [("load", time.perf_counter(), cpu_seconds())]

    def progress(message: str) -> None:
        stage = next((s for prefix, s in _STAGES if message.startswith(prefix)), None)
        if stage is None and marks[-1][0] in ("evaluate rules", _AFTER):
            stage = _AFTER
        if stage is not None and marks[-1][0] != stage:
            marks.append((stage, time.perf_counter(), cpu_seconds()))

    result = check_project(read_project(project), CheckOptions(fail_on="never"), progress=progress)
    marks.append(("end", time.perf_counter(), cpu_seconds()))
    stages: dict[str, float] = {}
    rules_cpu = 0.0
    for (stage, start, cpu), (_, end, cpu_end) in pairwise(marks):
        stages[stage] = stages.get(stage, 0.0) + end - start
        rules_cpu += cpu_end - cpu if stage == "evaluate rules" else 0.0
    return result, stages, rules_cpu


def without_map(result: object, workers: int) -> float:
    """The output stage's wall time (s) with every step but ``map.html``, as the stage runs them."""
    result.__dict__.pop("report", None)  # the report model, cached by the first run
    with tempfile.TemporaryDirectory(prefix="geoplan-bench-") as folder:
        steps = _steps(result, Path(folder), NO_BASEMAP, ExportOptions())
        steps = [s for s in steps if s.name != "map.html"]
        start = time.perf_counter()
        run_steps(steps, lambda line: None, {}, workers, _FIRST)
        return time.perf_counter() - start


def measure(label: str, project: Path, workers: int, no_map: bool = False) -> None:
    result, stages, rules_cpu = check_stages(project)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="geoplan-bench-") as folder:
        start, cpu = time.perf_counter(), cpu_seconds()
        write_outputs_into(result, Path(folder), timings=timings, workers=workers)
        output_s, output_cpu = time.perf_counter() - start, cpu_seconds() - cpu
        sizes = {p.name: p.stat().st_size for p in Path(folder).iterdir() if p.is_file()}
    rules_s = stages.get("evaluate rules", 0.0)
    farmland = result.loaded.layers.get("permanent_farmland")
    patches = len(farmland.frame) if farmland else 0
    print(
        f"\n{label}: {patches:,} farmland patches, {len(result.conflicts):,} conflicts, "
        f"output on {workers} thread(s)"
    )
    for stage, seconds in stages.items():
        print(f"  {stage:<24} {seconds:7.2f} s")
    engine_s = sum(r.seconds for r in result.evaluation.results)
    print(f"  (the engine's own rule times add up to {engine_s:.2f} s)")
    print("  output steps (wall time of each; concurrent steps overlap):")
    for name, seconds in timings.items():
        size = f"{sizes[name] / 1e6:8.2f} MB" if name in sizes else ""
        print(f"    {name:<22} {seconds:7.2f} s {size}")
    print(f"  output stage (wall)      {output_s:7.2f} s")
    ratio = output_s / rules_s if rules_s else float("nan")
    print(f"  output / rule evaluation {ratio:7.2f}")
    # CPU seconds do not depend on what else the machine runs; wall seconds do
    print(f"  CPU: output stage {output_cpu:.2f} s, rule evaluation {rules_cpu:.2f} s")
    if no_map:
        alone = without_map(result, workers)
        print(f"  output stage without map.html (wall, a second run) {alone:7.2f} s")
        print(f"  output without map.html / rule evaluation {alone / rules_s:7.2f}")
    share = stages.get("land classes", 0.0) / rules_s if rules_s else float("nan")
    print(f"  land classes / rule evaluation {share:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=300_000)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--skip-city", action="store_true")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--workers", type=int, default=WORKERS, help="output threads")
    parser.add_argument(
        "--without-map", action="store_true", help="also time the stage without map.html"
    )
    args = parser.parse_args()
    if not args.skip_demo:
        measure("demo", PROJECT_FILE, args.workers, args.without_map)
    if not args.skip_city:
        city = ensure_city(args.patches, args.cache)
        measure(f"city-{args.patches}", city, args.workers, args.without_map)


if __name__ == "__main__":
    main()
