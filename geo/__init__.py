"""Planning-agnostic geospatial primitives: CRS, units, areas, I/O, repair."""

import logging

logging.getLogger("geo").addHandler(logging.NullHandler())
