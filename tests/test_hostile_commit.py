"""Outputs never lose the previous result and never mix two runs (issue 13, section 5).

Every case runs the real ``geoplan`` command in a subprocess: runs killed with
SIGKILL at many instants (found by watching the output folder, not by hooks
in the code), two runs into one folder at once, and output folders on real
read-only and full file systems (tmpfs mounts; skipped where mounting is not
permitted).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest

from engine_cases import box, rule, write_project
from geoplan.analysis.run import OUTPUT_FILES
from geoplan.geo.output_journal import MANIFEST_NAME
from geoplan.geo.output_lock import LOCK_NAME

GEOPLAN = str(Path(sys.executable).with_name("geoplan"))
#: Outputs whose bytes depend on the conflicts found (all but layers.gpkg).
DEPENDENT = [name for name in OUTPUT_FILES if name != "layers.gpkg"]
#: Drops the small project's one conflict (1 ha) as a sliver.
NO_CONFLICT = ("--min-area", "R1=20000")
RECOVERED = "recovered the outputs of an interrupted run"
DISCARDED = "staging folder"  # "removed the (empty) staging folder …"

Trigger = Callable[[Path, float], bool]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project with one 1 ha conflict (red line × farmland)."""
    townships = gpd.GeoDataFrame(
        {"XZMC": ["平梁镇"], "XZQMC": ["巴州区"], "ZTGNQ": ["农产品主产区"]},
        geometry=[box(-1000, -1000, 5000, 5000)],
        crs=4545,
    )
    path = write_project(
        tmp_path,
        {
            "ecological_redline": [box(0, 0, 1000, 1000)],
            "permanent_farmland": [box(900, 0, 1100, 100), box(3000, 0, 3100, 100)],
            "townships": townships,
        },
    )
    pack = rule("must_not_overlap", '"permanent_farmland"', '"ecological_redline"')
    (tmp_path / "pack.toml").write_text(pack, encoding="utf-8")
    text = path.read_text(encoding="utf-8") + '\n[rules]\npacks = ["pack.toml"]\n'
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def mount(tmp_path: Path):
    """Mount a tmpfs (``mount(path, options)``), unmounted after the test; skips if not allowed."""
    mounted: list[Path] = []

    def _mount(path: Path, options: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
        mounted.append(path)
        return path

    yield _mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [GEOPLAN, *map(str, args)], capture_output=True, text=True, timeout=900, check=False
    )


def _start(stderr: Path, *args: str | Path) -> subprocess.Popen:
    with stderr.open("w", encoding="utf-8") as err:
        return subprocess.Popen(
            [GEOPLAN, *map(str, args)], stdout=subprocess.DEVNULL, stderr=err, text=True
        )


def _hashes(out: Path) -> dict[str, str | None]:
    """SHA-256 of each output file, None for a missing one."""
    return {
        name: hashlib.sha256((out / name).read_bytes()).hexdigest()
        if (out / name).is_file()
        else None
        for name in OUTPUT_FILES
    }


def _hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".geoplan."))


def _stagings(out: Path) -> list[Path]:
    return sorted(out.glob(".geoplan.*.partial"))


def _committed(out: Path) -> bool:
    return any((s / MANIFEST_NAME).exists() for s in _stagings(out))


def _entries(folder: Path) -> list[str]:
    """Names in ``folder`` other than geoplan's own; none when it is gone."""
    try:
        return [n for n in os.listdir(folder) if not n.startswith(".geoplan.")]
    except OSError:
        return []


def _is_new(out: Path, baseline: dict, conflicts: int | None = None) -> bool:
    """Whether ``out`` holds a complete set of another run than ``baseline``'s, with no mix.

    The runs differ in their conflicts, so every output but layers.gpkg differs.
    """
    now = _hashes(out)
    if None in now.values() or any(now[name] == baseline[name] for name in DEPENDENT):
        return False
    return conflicts is None or _report(out)["summary"]["conflicts"] == conflicts


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _rule_ids(out: Path) -> set[str]:
    return {row["rule_id"] for row in _report(out)["summary"]["by_rule"]}


def _kill_when(process: subprocess.Popen, out: Path, trigger: Trigger) -> bool:
    """SIGKILL ``process`` as soon as ``trigger`` sees its moment; False if it ended first."""
    start = time.monotonic()
    while process.poll() is None:
        if trigger(out, time.monotonic() - start):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
    return False


def _after(seconds: float) -> Trigger:
    return lambda out, elapsed: elapsed >= seconds


def _staged(name: str | None = None) -> Trigger:
    """Once the staging folder exists (and holds ``name``)."""
    return lambda out, _: any(name is None or (s / name).exists() for s in _stagings(out))


def _manifest(suffix: str = "") -> Trigger:
    return lambda out, _: any((s / f"{MANIFEST_NAME}{suffix}").exists() for s in _stagings(out))


def _set_aside(count: int) -> Trigger:
    """Once ``count`` old outputs are in the backup folder."""
    return lambda out, _: any(len(_entries(b)) >= count for b in out.glob(".geoplan.*.old"))


def _moved_in(count: int) -> Trigger:
    """Once ``count`` new outputs have left the committed staging folder."""
    total = len(OUTPUT_FILES)

    def trigger(out: Path, _: float) -> bool:
        return any(
            (s / MANIFEST_NAME).exists() and len(_entries(s)) <= total - count
            for s in _stagings(out)
        )

    return trigger


def _backup_removed(out: Path, _: float) -> bool:
    return _committed(out) and not list(out.glob(".geoplan.*.old"))


def _one_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("geoplan: error:")]
    assert len(errors) == 1, stderr
    assert stderr.rstrip().endswith(errors[0]), stderr
    assert "Traceback" not in stderr, stderr
    return errors[0]


def _refused_before_analysis(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [_one_error_line(result.stderr)]
    assert "loading" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.slow
def test_a_kill_at_any_instant_leaves_one_complete_set_or_one_the_next_run_completes(
    project, tmp_path
):
    out = tmp_path / "out"
    start = time.monotonic()
    first = _run("check", project, "--out", out, *NO_CONFLICT)
    seconds = time.monotonic() - start
    assert first.returncode == 0, first.stderr
    baseline, baseline_conflicts = _hashes(out), 0
    triggers = {
        "while Python starts": _after(0.2),
        "at 40 % of a run": _after(0.4 * seconds),
        "at 80 % of a run": _after(0.8 * seconds),
        "staging folder made": _staged(),
        "layers.gpkg staged": _staged("layers.gpkg"),
        "report.json staged": _staged("report.json"),
        "manifest being written": _manifest(".tmp"),
        "manifest written": _manifest(),
        "one old output set aside": _set_aside(1),
        "five old outputs set aside": _set_aside(5),
        "every old output set aside": _set_aside(len(OUTPUT_FILES)),
        "one new output moved in": _moved_in(1),
        "five new outputs moved in": _moved_in(5),
        "every new output moved in": _moved_in(len(OUTPUT_FILES)),
        "backup folder removed": _backup_removed,
    }
    outcomes = []
    for when, trigger in triggers.items():
        conflicts = 1 - baseline_conflicts  # each run differs from the outputs it replaces
        flags = NO_CONFLICT if conflicts == 0 else ()
        process = _start(
            tmp_path / "stderr.txt", "check", project, "--out", out, "--overwrite", *flags
        )
        killed = _kill_when(process, out, trigger)
        committed = _committed(out)
        old = _hashes(out) == baseline
        new = _is_new(out, baseline, conflicts)
        assert old or new or committed, f"killed {when}: a mix of two runs {_hashes(out)}"
        if not killed:
            assert process.returncode == conflicts and new, when
        if any(name != LOCK_NAME for name in _hidden(out)):
            # the next run into the folder finishes (or drops) what the killed one left
            before = _hashes(out)
            probe = _run("check", project, "--out", out)
            assert probe.returncode == 2 and "exists" in probe.stderr, probe.stderr
            assert (RECOVERED if committed else DISCARDED) in probe.stderr, (when, probe.stderr)
            assert _hidden(out) == []
            if committed:
                new = _is_new(out, baseline, conflicts)
                assert new, f"killed {when}: the recovered set is not the killed run's"
            else:
                assert _hashes(out) == before, f"killed {when}: an uncommitted run changed it"
        outcomes.append("recovered" if committed else "new" if new else "old")
        if new:
            baseline, baseline_conflicts = _hashes(out), conflicts
    # the kills reached the commit window, not only the analysis around it
    assert "recovered" in outcomes and "old" in outcomes, outcomes
    final = _run("check", project, "--out", out, "--overwrite")
    assert final.returncode == 1, final.stderr
    assert _hidden(out) == []


@pytest.mark.slow
def test_demo_killed_while_writing_keeps_the_old_set_and_a_commit_is_completed(tmp_path):
    out = tmp_path / "demo"
    first = _run("demo", "--out", out, "--disable", "pa-no-overlap")
    assert first.returncode == 0, first.stderr
    baseline = _hashes(out)
    assert "pa-no-overlap" not in _rule_ids(out)
    process = _start(tmp_path / "writing.txt", "demo", "--out", out, "--overwrite")
    assert _kill_when(process, out, _staged("map.html"))
    assert _hashes(out) == baseline  # byte for byte
    (staging,) = _stagings(out)
    left = sum(f.stat().st_size for f in staging.rglob("*") if f.is_file())
    # map.html and the GeoPackages (written beside it) were partly staged, nothing committed
    assert left > 1_000_000 and not _committed(out)

    committing = tmp_path / "committing.txt"
    process = _start(committing, "demo", "--out", out, "--overwrite")
    killed = _kill_when(process, out, _manifest())
    assert f"{DISCARDED} {staging.name} of an interrupted run" in committing.read_text(
        encoding="utf-8"
    )
    assert not staging.exists()
    committed = _committed(out)
    assert _hashes(out) == baseline or _is_new(out, baseline) or committed
    probe = _run("demo", "--out", out)
    assert probe.returncode == 2 and "exists" in probe.stderr
    assert (RECOVERED in probe.stderr) == committed, (killed, probe.stderr)
    assert _hidden(out) == []
    assert _is_new(out, baseline)  # the killed run's, committed by it or by the probe
    assert "pa-no-overlap" in _rule_ids(out)


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "demo"
    first = _start(tmp_path / "first.txt", "demo", "--out", out)
    lock = out / LOCK_NAME
    while first.poll() is None and f'"pid": {first.pid},' not in (
        lock.read_text(encoding="utf-8") if lock.exists() else ""
    ):
        time.sleep(0.05)
    second = _run("demo", "--out", out, "--overwrite")
    _refused_before_analysis(
        second, str(out), "being written by another geoplan run", f"pid {first.pid}", "demo"
    )
    assert first.wait(timeout=900) == 0, (tmp_path / "first.txt").read_text(encoding="utf-8")
    assert None not in _hashes(out).values()
    assert _hidden(out) == []


def test_the_lock_names_its_holder_and_dies_with_it_and_its_leftovers_are_cleared(
    project, tmp_path
):
    out = tmp_path / "out"
    hold = (
        "import sys\n"
        "from geo.outputs import atomic_outputs\n"
        "with atomic_outputs(sys.argv[1], ['report.json']) as staging:\n"
        "    (staging / 'report.json').write_text('half')\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        refused = _run("check", project, "--out", out)
        _refused_before_analysis(refused, str(out), "another geoplan run", f"pid {holder.pid} on")
    finally:
        holder.kill()  # SIGKILL: its lock file and staging folder stay behind
        holder.wait()
    assert LOCK_NAME in _hidden(out) and len(_stagings(out)) == 1
    after = _run("check", project, "--out", out)
    assert after.returncode == 1, after.stderr
    assert DISCARDED in after.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)


def test_an_output_folder_under_a_file_or_that_is_a_file_is_refused(project, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me", encoding="utf-8")
    under = _run("check", project, "--out", notes / "out")
    _refused_before_analysis(under, str(notes / "out"), f"{notes} is a file")
    in_a_file = _run("map", project, "--out", notes / "m.html")
    _refused_before_analysis(in_a_file, f"{notes}: exists and is not a folder")
    assert notes.read_text(encoding="utf-8") == "keep me"


def test_a_read_only_file_system_is_refused_and_its_outputs_kept(project, tmp_path, mount):
    folder = mount(tmp_path / "ro", "size=1m")
    (folder / "report.json").write_text("keep me", encoding="utf-8")
    remount = subprocess.run(
        ["mount", "-o", "remount,ro", str(folder)], capture_output=True, text=True
    )
    if remount.returncode != 0:
        pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
    existing = _run("check", project, "--out", folder, "--overwrite")
    _refused_before_analysis(existing, f"{folder}: cannot write", "Read-only file system")
    inside = _run("export", project, "--out", folder / "gis", "--format", "gpkg")
    _refused_before_analysis(inside, f"{folder / 'gis'}: cannot create", "Read-only file system")
    assert (folder / "report.json").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in folder.iterdir()) == ["report.json"]


def test_a_full_disk_is_refused_before_the_analysis(project, tmp_path, mount):
    folder = mount(tmp_path / "full", "size=64k")
    with (folder / "filler").open("wb", buffering=0) as filler, pytest.raises(OSError):
        while True:
            filler.write(b"\0" * 4096)
    result = _run("check", project, "--out", folder / "out")
    _refused_before_analysis(result, str(folder / "out"))
    assert "space" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["filler"]


@pytest.mark.slow
def test_a_disk_that_fills_while_writing_keeps_the_old_outputs(project, tmp_path, mount):
    folder = mount(tmp_path / "small", "size=8m")
    assert _run("check", project, "--out", folder).returncode == 1
    before = _hashes(folder)
    result = _run("demo", "--out", folder, "--overwrite")
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert str(folder) in line and "no space left" in line and "nothing was replaced" in line
    assert "loading" in result.stderr  # found only when writing: the demo needs 18 MB
    assert _hashes(folder) == before
    assert _hidden(folder) == []


def test_a_forged_commit_manifest_moves_nothing(project, tmp_path):
    out = tmp_path / "out"
    staging = out / ".geoplan.forged.partial"
    staging.mkdir(parents=True)
    (out / "report.json").write_text("keep me", encoding="utf-8")
    manifest = {"outputs": ["../escape"], "replaces": ["report.json"]}
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    result = _run("check", project, "--out", out, "--overwrite")
    _refused_before_analysis(result, str(staging / MANIFEST_NAME), "not a geoplan commit manifest")
    assert (out / "report.json").read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "escape").exists()
