"""Exceptions raised by geoplan.

Every error derives from :class:`GeoplanError` and from the built-in exception
it is a kind of, so callers can catch either. The command line turns any
:class:`GeoplanError` into a one-line message and exit code 2.
"""


class GeoplanError(Exception):
    """Root of every error geoplan raises on bad input or bad configuration."""


class LayerReadError(GeoplanError, OSError):
    """A data source or one of its layers cannot be read."""


class EncodingError(GeoplanError, ValueError):
    """The text encoding of a data source cannot be determined or is wrong."""


class CRSError(GeoplanError, ValueError):
    """A coordinate reference system is missing, unknown or unusable."""


class GeometryError(GeoplanError, ValueError):
    """A geometry cannot be used, even after repair."""


class OutputExistsError(GeoplanError, FileExistsError):
    """An output exists and overwriting it was not asked for."""


class OutputError(GeoplanError, OSError):
    """An output folder or file cannot be written."""


class OutputLockedError(OutputError):
    """Another run is writing into the same output folder."""
