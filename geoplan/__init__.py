"""geoplan: check a territorial spatial plan (国土空间规划) for conflicts between its layers.

The public API, for notebooks and pipelines::

    import geoplan

    project = geoplan.read_project("project.toml")
    result = geoplan.check_project(project)
    geoplan.write_outputs(result, "result/")

    # the rules on a dask cluster, one task per county: the same result
    result = geoplan.check_project(project, cluster=geoplan.Cluster(workers=4))

Everything else lives in the subpackages ``geoplan.geo`` (planning-agnostic
geospatial primitives), ``geoplan.layers`` (layer kinds, project files,
loading), ``geoplan.analysis`` (rules, engine, reports, command line) and
``geoplan.maps`` (the offline map); their modules may change between
releases, the names below do not.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

__all__ = [
    "DEMO_PROJECT",
    "CheckOptions",
    "CheckResult",
    "Cluster",
    "ExportOptions",
    "GeoplanError",
    "LoadedProject",
    "Project",
    "check_project",
    "load_project",
    "read_project",
    "write_outputs",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Imported on first use, so ``geoplan --help`` does not load geopandas.
_WHERE = {
    "DEMO_PROJECT": ("geoplan.layers.bazhong", "PROJECT_FILE"),
    "CheckOptions": ("geoplan.analysis.run", "CheckOptions"),
    "CheckResult": ("geoplan.analysis.check_result", "CheckResult"),
    "Cluster": ("geoplan.analysis.distributed", "Cluster"),
    "ExportOptions": ("geoplan.analysis.run", "ExportOptions"),
    "GeoplanError": ("geoplan.geo.errors", "GeoplanError"),
    "LoadedProject": ("geoplan.layers.loader", "LoadedProject"),
    "Project": ("geoplan.layers.project_types", "Project"),
    "check_project": ("geoplan.analysis.run", "check_project"),
    "load_project": ("geoplan.layers.loader", "load_project"),
    "read_project": ("geoplan.layers.project", "read_project"),
    "write_outputs": ("geoplan.analysis.run", "write_outputs"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'geoplan' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
