"""Map size, draw time and heap: the demo and the city-scale benchmark sets.

For each dataset the check runs in process, then ``map.html`` is built
(timed, wall and CPU; the conflict density, a step of its own in the output
stage, computed before) and opened three times (``--runs``) in headless
Chromium with the network off, in turn (the demo, then each city, then the
demo again …: the speed of a shared machine drifts over minutes, and the
ratios to the demo's should not). A first load of each page is not counted.
"scripts" is navigation start to the end of the load event (Leaflet has
built every layer), "drawn" adds the canvas tiles of the dense layers in
view (the overviews' and the conflicts': from their points, and the chunks
of cells with a feature of 3 px or more inflated) and the first painted
frame after them (two animation frames), "findings" is when the findings'
table (inflated when the page is first idle after that frame: the list,
the findings' popups and search) has been read, "heap" is the JavaScript heap in use then (DevTools
``Runtime.getHeapUsage`` after a garbage collection). The medians are
printed with the file size, and the first draw's ratio to the demo's.

    .venv/bin/python benchmarks/bench_map.py [--patches 300000 1000000] [--skip-city] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from citygen import DEFAULT_CACHE, ensure_city

from geoplan.analysis.output_stage import density_of
from geoplan.analysis.run import check_project, render_map
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.project import read_project

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import open_page, start_browser

_FIRST_FRAME = """
const done = arguments[arguments.length - 1];
const tiles = geoplan.registry.flatMap(e => [e.layer.geoplanTiles, e.layer.geoplanOverview])
  .filter(t => t && t._map && t.isLoading && t.isLoading())
  .map(t => new Promise(r => t.once("load", r)));
Promise.all(tiles).then(() =>
  requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() / 1000))));
"""

_FINDINGS = """
const done = arguments[arguments.length - 1];
(geoplan.findingsReady || Promise.resolve()).then(() => done(performance.now() / 1000));
"""


def build(label: str, project: Path, folder: Path) -> dict:
    """Check the project and write its map into ``folder``: its figures before it is opened."""
    result = check_project(read_project(project))
    # The output stage computes the density as a step of its own, before the map.
    density = density_of(result.loaded, result.conflicts)
    start, cpu = time.perf_counter(), time.process_time()
    page = render_map(result.loaded, result.conflicts, subtitle="benchmark", density=density)
    build_s, build_cpu = time.perf_counter() - start, time.process_time() - cpu
    path = folder / f"{label}.html"
    path.write_text(page, encoding="utf-8")
    features = sum(len(layer.frame) for layer in result.loaded.layers.values())
    return {
        "label": label,
        "path": path,
        "features": features,
        "conflicts": len(result.conflicts),
        "build": build_s,
        "build_cpu": build_cpu,
        "size_mb": path.stat().st_size / 1e6,
        "scripts": [],
        "drawn": [],
        "findings": [],
        "heap": [],
    }


def load(page: dict, browser) -> None:
    """Open the page once; add its times and heap to its lists."""
    opened = open_page(browser, page["path"])
    if opened.requests or opened.failed or opened.console_errors:
        raise SystemExit(f"{page['label']}: the page reached for the network or failed: {opened}")
    page["scripts"].append(opened.seconds)
    page["drawn"].append(browser.execute_async_script(_FIRST_FRAME))
    page["findings"].append(browser.execute_async_script(_FINDINGS))
    browser.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    page["heap"].append(browser.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"] / 1e6)


def report(page: dict, demo: dict) -> None:
    median = statistics.median
    drawn = median(page["drawn"])
    print(
        f"{page['label']:<8} {page['features']:>9,} features {page['conflicts']:>6,} conflicts | "
        f"build {page['build']:5.1f} s (CPU {page['build_cpu']:5.1f} s) | {page['size_mb']:6.2f} MB"
        f" | scripts {median(page['scripts']):5.2f} s | drawn {drawn:5.2f} s"
        f" ({drawn / median(demo['drawn']):4.2f}x the demo's)"
        f" | findings {median(page['findings']):5.2f} s | heap {median(page['heap']):6.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, nargs="+", default=[300_000, 1_000_000])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--skip-city", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="page loads per dataset")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pages = [build("demo", PROJECT_FILE, Path(folder))]
        if not args.skip_city:
            for patches in args.patches:
                city = ensure_city(patches, args.cache)
                pages.append(build(f"city-{patches // 1000}k", city, Path(folder)))
        browser = start_browser()
        try:
            for page in pages:  # a first load of each, not counted
                open_page(browser, page["path"])
            for _ in range(args.runs):
                for page in pages:
                    load(page, browser)
        finally:
            browser.quit()
        for page in pages:
            report(page, pages[0])


if __name__ == "__main__":
    main()
