"""Provenance of a check: every file it read with its SHA-256, when it ran, what it returns.

``report.json``'s ``provenance`` (built by :func:`provenance` for
:func:`analysis.reports.model.report_model`): the project file, each vector
source (a Shapefile with its sidecars; a PostGIS table with the digest of
the rows read), each raster, each rule pack (the built-in ones too) with
size and SHA-256; geoplan's version; start, end of
the evaluation and duration; and the exit status ``geoplan check`` returns
for the verdict. The files are hashed here, when the report asks, once each
(:func:`geo.checksum.file_sha256`), not when the project is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geoplan.analysis.rules import builtin_packs, load_pack
from geoplan.geo.checksum import file_bytes, file_sha256, source_files

if TYPE_CHECKING:
    from geoplan.analysis.check_result import CheckResult
    from geoplan.layers.loader import LoadedLayer

#: ``check``'s exit status when the verdict is 不通过 (``fail``); 0 otherwise.
EXIT_FAIL = 1


def pack_file(pack: str) -> Path:
    """The file of a rule pack: a built-in pack's in ``analysis/packs/``, else the path given."""
    if pack in builtin_packs():
        return Path(str(resources.files("geoplan.analysis") / "packs" / f"{pack}.toml"))
    return Path(pack).absolute()


def _entry(path: Path, kind: str) -> dict[str, Any]:
    return {
        "path": str(path),
        "kind": kind,
        "sha256": file_sha256(path),
        "bytes": file_bytes(path),
    }


def _table_entry(layer: LoadedLayer) -> dict[str, Any]:
    return {
        "path": layer.spec.input_name,
        "kind": "vector",
        "sha256": layer.sha256,
        "bytes": None,
        "sha256_of": "rows",
        "rows": layer.features_read,
    }


def input_files(result: CheckResult) -> list[dict[str, Any]]:
    """Every file the check read, once each: project, vectors, rasters, rule packs.

    Returns
    -------
    list of dict
        ``path``, ``kind`` (``project``, ``vector``, ``raster``, ``rule_pack``),
        ``sha256`` and ``bytes`` (None for a file that is gone since); in that
        kind order, vectors and rasters by path. A PostGIS table, which has
        no file, is ``vector`` with ``path`` its URL (no password), table
        and ``where`` if any, ``bytes`` None, ``sha256_of`` ``"rows"`` and ``rows``: its
        ``sha256`` is :func:`geo.checksum.rows_sha256` of the ``rows`` read.
    """
    project = result.loaded.project
    layers = list(result.loaded.layers.values())
    files = [layer for layer in layers if not layer.spec.is_postgis]
    tables = {layer.spec.input_name: layer for layer in layers if layer.spec.is_postgis}
    vectors = {f for layer in files for f in source_files(layer.spec.path)}
    rasters = {f for raster in project.rasters.values() for f in source_files(raster.path)}
    entries = [_entry(Path(project.path), "project")]
    entries += [_entry(path, "vector") for path in sorted(vectors)]
    entries += [_table_entry(tables[name]) for name in sorted(tables)]
    entries += [_entry(path, "raster") for path in sorted(rasters - vectors)]
    entries += [_entry(pack_file(pack), "rule_pack") for pack in result.packs]
    return entries


def provenance(result: CheckResult, verdict: Mapping[str, Any], version: str) -> dict[str, Any]:
    """``report.json``'s ``provenance``.

    Parameters
    ----------
    result : CheckResult
    verdict : mapping
        ``report.json``'s ``verdict``; its ``status`` decides the exit status.
    version : str
        geoplan's version (:func:`analysis.reports.model.tool_version`).

    Returns
    -------
    dict
        ``tool`` (``name``, ``version``); ``started`` and ``finished`` (ISO
        8601 with offset; finished = end of the evaluation, before the
        outputs are written); ``duration_s`` (s, between them);
        ``exit_status`` (1 when the verdict is ``fail``, else 0: what
        ``geoplan check`` returns; ``geoplan demo`` always returns 0);
        ``inputs`` (:func:`input_files`); ``rule_packs`` (``name``, ``path``,
        ``sha256`` of each pack used, in order).
    """
    finished = result.finished
    files = {pack: pack_file(pack) for pack in result.packs}
    packs = [
        {"name": load_pack(pack).name, "path": str(path), "sha256": file_sha256(path)}
        for pack, path in files.items()
    ]
    return {
        "tool": {"name": "geoplan", "version": version},
        "started": result.started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - result.started).total_seconds(), 1),
        "exit_status": EXIT_FAIL if verdict["status"] == "fail" else 0,
        "inputs": input_files(result),
        "rule_packs": packs,
    }
