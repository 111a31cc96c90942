"""Plan revisions: what a new delivery of the plan data fixed and what it broke.

Two check outputs (each a folder with ``report.json``, ``conflicts.gpkg``
and ``layers.gpkg``) are compared: their findings matched by conflict id,
then by geometry (:mod:`.matching`), each classed as resolved, new, changed
or unchanged (:mod:`.findings`); their layers feature by feature
(:mod:`.layer_changes`); their plan targets (:mod:`.model`). The diff model
is rendered as ``diff.md``, ``diff.html``, ``diff.json`` and ``diff.gpkg``
(:mod:`.write`), and gives the pipeline gate its exit status.
"""
