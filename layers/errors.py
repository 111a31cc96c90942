"""The error of a project file that cannot be used."""

from geoplan.geo.errors import GeoplanError


class ProjectError(GeoplanError, ValueError):
    """A project file is malformed or refers to something that does not exist."""
