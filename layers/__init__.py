"""Planning knowledge of data: layer kinds, project files, loading, the Bazhong dataset."""

from geoplan.layers.catalog import KINDS, LayerKind, get_kind
from geoplan.layers.loader import LoadedLayer, LoadedProject, load_project
from geoplan.layers.project import read_project
from geoplan.layers.project_types import Project

__all__ = [
    "KINDS",
    "LayerKind",
    "LoadedLayer",
    "LoadedProject",
    "Project",
    "get_kind",
    "load_project",
    "read_project",
]
