"""The check on a dask.distributed cluster, partitioned by county: the one-process result.

A real ``LocalCluster`` of two worker processes (module-scoped) runs the
embedded project, which is compared with ``geoplan demo`` run in one process
(report.json apart from run times, conflicts.gpkg row by row); the CLI starts
its own cluster with ``--workers 2``; a worker that cannot see the data
(a separate ``dask worker`` in its own mount namespace, where the project's
data folder is an empty tmpfs, as on a machine without the shared folder)
stops the run with exit 2; a worker process that dies mid-run has its task
run again. Areas are also checked against an overlay of the source layers
with geopandas and pyproj.Geod.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import dask
import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from distributed import Client, LocalCluster, WorkerPlugin
from pyproj import Geod

from geoplan.analysis.cli import cli
from geoplan.analysis.partition import owners
from geoplan.analysis.run import Cluster, check_project
from geoplan.layers.bazhong import PROJECT_FILE

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
DATA = PROJECT_FILE.parent / "data"
#: Keys of report.json that are times of the run, not its result.
RUN_TIMES = {"started", "finished", "duration_s", "seconds", "geometry_seconds"}


@pytest.fixture(scope="module")
def scheduler():
    """The address of a local cluster of two worker processes, one thread each."""
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def cluster_out(scheduler, tmp_path_factory) -> tuple[Path, str]:
    """``geoplan demo --scheduler`` on the module's cluster: its folder and stderr."""
    out = tmp_path_factory.mktemp("demo-cluster")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--scheduler", scheduler])
    assert result.exit_code == 0, result.output
    return out, result.stderr


def _scrubbed(value):
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items() if k not in RUN_TIMES}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def assert_same_conflicts(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    """Same rows in the same order: ids, every column, areas to 1e-6 m², geometry."""
    assert len(a) > 0
    assert list(a["conflict_id"]) == list(b["conflict_id"])
    assert list(a.columns) == list(b.columns)
    for column in a.columns.drop("geometry"):
        x, y = a[column].to_numpy(), b[column].to_numpy()
        if x.dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-6, err_msg=column)
        else:
            assert list(x.astype(str)) == list(y.astype(str)), column
    apart = shapely.area(shapely.symmetric_difference(a.geometry.values, b.geometry.values))
    assert apart.max() <= 1e-6


def test_report_json_is_the_one_process_report(demo_out: Path, cluster_out):
    one = json.loads((demo_out / "report.json").read_text(encoding="utf-8"))
    two = json.loads((cluster_out[0] / "report.json").read_text(encoding="utf-8"))
    assert one["summary"]["conflicts"] > 300
    assert _scrubbed(one) == _scrubbed(two)


def test_conflicts_gpkg_is_the_one_process_table(demo_out: Path, cluster_out):
    one = pyogrio.read_dataframe(demo_out / "conflicts.gpkg", layer="conflicts")
    two = pyogrio.read_dataframe(cluster_out[0] / "conflicts.gpkg", layer="conflicts")
    assert_same_conflicts(one, two)


def test_one_progress_line_per_county(cluster_out):
    counties = pyogrio.read_dataframe(DATA / "bazhong.gpkg", layer="XZQ_XJ", read_geometry=False)
    lines = [line for line in cluster_out[1].splitlines() if " 完成 " in line]
    names = [line.split("县 ", 1)[1].split(" 完成")[0] for line in lines]
    assert sorted(names) == sorted(counties["XZQMC"])
    n = len(counties)
    assert [line.split(" 完成 ")[1].split("（")[0] for line in lines] == [
        f"{i}/{n}" for i in range(1, n + 1)
    ]
    assert all("（已用 " in line and line.endswith(" 秒）") for line in lines)


def test_overlap_areas_match_an_independent_overlay(cluster_out):
    """lines-redline-farmland: the rows of each pair add up to the Geod area of its overlap."""
    rows = pyogrio.read_dataframe(cluster_out[0] / "conflicts.gpkg", layer="conflicts")
    rows = rows[rows["rule_id"] == "lines-redline-farmland"]
    farmland = pyogrio.read_dataframe(DATA / "bazhong.gpkg", layer="YJJBNT", fid_as_index=True)
    redline = pyogrio.read_dataframe(DATA / "bazhong.gpkg", layer="STBHHX", fid_as_index=True)
    overlay = gpd.overlay(
        farmland.reset_index(names="ffid"), redline.reset_index(names="rfid"), keep_geom_type=True
    ).to_crs(4490)
    geod = Geod(ellps="GRS80")
    overlay["geod_m2"] = [abs(geod.geometry_area_perimeter(g)[0]) for g in overlay.geometry]
    expected = overlay.groupby(["ffid", "rfid"])["geod_m2"].sum()
    got = (
        rows.assign(
            ffid=rows["left_id"].map(dict(zip(farmland["BSM"], farmland.index, strict=True))),
            rfid=rows["right_id"].map(dict(zip(redline["BSM"], redline.index, strict=True))),
        )
        .groupby(["ffid", "rfid"])["area_m2"]
        .sum()
    )
    assert len(got) > 10
    # every pair overlapping by 1,000 m² or more is a conflict (no sliver under the tolerance)
    assert set(expected[expected >= 1000].index) <= set(got.index)
    big = got[got >= 1000]
    np.testing.assert_allclose(big.to_numpy(), expected[big.index].to_numpy(), rtol=1e-6, atol=1.0)


def test_cli_workers_starts_a_local_cluster(demo_out: Path, tmp_path: Path):
    out = tmp_path / "out"
    run = subprocess.run(
        [BIN / "geoplan", "check", PROJECT_FILE, "--out", out, "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 1, run.stderr  # the demo has prohibited conflicts
    assert "geoplan: dask 本地集群：2 个工作进程，仪表板 " in run.stderr
    assert run.stderr.count(" 完成 ") == 5
    one = pyogrio.read_dataframe(demo_out / "conflicts.gpkg", layer="conflicts")
    two = pyogrio.read_dataframe(out / "conflicts.gpkg", layer="conflicts")
    assert_same_conflicts(one, two)


def _copy_demo(folder: Path, drop: tuple[str, ...] = ()) -> Path:
    """The demo project in ``folder`` (data copied), without the ``[layers.*]`` in ``drop``."""
    shutil.copytree(DATA, folder / "data")
    text = PROJECT_FILE.read_text(encoding="utf-8")
    blocks = text.split("\n[")
    kept = [b for b in blocks if not any(b.startswith(f"layers.{k}]") for k in drop)]
    kept = [b for b in kept if not any(f'layer = "{k}"' in b for k in drop)]
    project = folder / "project.toml"
    project.write_text("\n[".join(kept), encoding="utf-8")
    return project


@pytest.fixture
def blind_scheduler(tmp_path: Path):
    """A scheduler and a worker started as separate processes; the worker sees no project data.

    The worker runs in its own mount namespace with an empty tmpfs over the
    copied project's data folder: the client reads the files, the worker
    finds the folder empty, as a worker on a machine without the share would.
    """
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("needs unshare --mount (root) to hide the data from a worker")
    project = _copy_demo(tmp_path / "project")
    address_file = tmp_path / "scheduler.json"
    procs = [
        subprocess.Popen(
            [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", address_file],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    try:
        for _ in range(300):
            if address_file.exists() and address_file.stat().st_size:
                break
            time.sleep(0.1)
        hide = f'mount -t tmpfs none \'{project.parent / "data"}\' && exec "$0" "$@"'
        procs.append(
            subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", hide,
                 BIN / "dask", "worker", "--scheduler-file", address_file, "--nthreads", "1",
                 "--no-dashboard", "--host", "127.0.0.1"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        with Client(scheduler_file=str(address_file), timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
            address = client.scheduler.address
        yield project, address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=60)


def test_a_worker_that_cannot_read_a_source_stops_the_run(blind_scheduler, tmp_path: Path):
    project, address = blind_scheduler
    out = tmp_path / "out"
    run = subprocess.run(
        [BIN / "geoplan", "-q", "check", project, "--out", out, "--scheduler", address],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoplan: error: 县 "), run.stderr
    assert str(project.parent / "data" / "bazhong.gpkg") in lines[0]
    assert "Traceback" not in run.stderr
    assert not out.exists() or not any(out.iterdir())


class _DieOnce(WorkerPlugin):
    """Kill this worker's process the first time it starts a partition task (a flag file says)."""

    def __init__(self, flag: str) -> None:
        self.flag = flag

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish == "executing" and str(key).startswith("geoplan-part-"):
            try:
                fd = os.open(self.flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.write(fd, str(key).encode())
            os.close(fd)
            os._exit(1)


def test_a_killed_worker_is_replaced_and_the_result_is_the_same(
    scheduler, demo_out: Path, tmp_path: Path
):
    flag = tmp_path / "killed"
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with Client(scheduler) as client:
        client.register_plugin(_DieOnce(str(flag)), name="die-once")
        try:
            result = check_project(PROJECT_FILE, cluster=Cluster(scheduler=scheduler))
        finally:
            client.unregister_worker_plugin("die-once")
            cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert flag.read_text().startswith("geoplan-part-")  # a worker did die mid-task
    one = pyogrio.read_dataframe(demo_out / "conflicts.gpkg", layer="conflicts")
    two = result.conflicts.drop(columns="geometry")
    two = gpd.GeoDataFrame(two, geometry=result.conflicts.geometry.to_crs(one.crs).values)
    assert_same_conflicts(one, two[list(one.columns)])


class _DieAlways(WorkerPlugin):
    """Kill this worker's process whenever it starts a partition task."""

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish == "executing" and str(key).startswith("geoplan-part-"):
            os._exit(1)


def test_a_worker_that_keeps_dying_fails_the_run_with_one_line(tmp_path: Path):
    out = tmp_path / "out"
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with (
            dask.config.set({"distributed.scheduler.allowed-failures": 0}),
            LocalCluster(
                n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
            ) as cluster,
            Client(cluster) as client,
        ):
            client.register_plugin(_DieAlways(), name="die-always")
            run = CliRunner().invoke(
                cli, ["-q", "demo", "--out", str(out), "--scheduler", cluster.scheduler_address]
            )
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert run.exit_code == 2, run.output
    lines = run.stderr.strip().splitlines()
    assert lines[-1].startswith("geoplan: error: 县 ")
    assert "died too often" in lines[-1] and "no output was written" in lines[-1]
    assert not out.exists() or not any(out.iterdir())


def test_an_unreachable_scheduler_is_one_line_before_any_layer_is_read(tmp_path: Path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    run = CliRunner().invoke(
        cli, ["demo", "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}"]
    )
    assert run.exit_code == 2, run.output
    lines = run.stderr.strip().splitlines()
    assert lines[-1].startswith(
        f"geoplan: error: cannot reach the dask scheduler tcp://127.0.0.1:{port}"
    )
    assert not any("loading" in line for line in lines), lines
    assert "Traceback" not in run.output
    assert not out.exists() or not any(out.iterdir())


def test_a_project_without_counties_is_cut_by_a_grid(scheduler, tmp_path: Path):
    project = _copy_demo(tmp_path, drop=("counties",))
    messages = []
    one = check_project(project)
    two = check_project(project, cluster=Cluster(scheduler=scheduler), progress=messages.append)
    assert any(m.startswith("分区 ") and " 完成 " in m for m in messages)
    assert not any(m.startswith("县 ") for m in messages)
    assert_same_conflicts(one.conflicts, two.conflicts)
    assert [r.conflicts for r in one.evaluation.results] == [
        r.conflicts for r in two.evaluation.results
    ]


def test_every_format_and_crs_is_read_by_box_as_the_whole_load_reads_it(scheduler, mixed_project):
    """Shapefile with zone-prefixed eastings, FileGDB, GeoJSON, zip, GeoParquet, FlatGeobuf, KML."""
    one = check_project(mixed_project)
    two = check_project(mixed_project, cluster=Cluster(scheduler=scheduler))
    assert_same_conflicts(one.conflicts, two.conflicts)


def test_a_point_has_one_owner():
    cells = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], dtype=object)
    points = shapely.points([(0.5, 0.5), (1.0, 0.5), (1.5, 0.5), (5.0, 0.5), (-3.0, 9.0)])
    # on the shared edge: the lower index; outside both: the nearest
    assert list(owners(points, cells)) == [0, 0, 1, 1, 0]
