"""Planning-agnostic geospatial primitives: CRS, units, areas, I/O, repair."""
