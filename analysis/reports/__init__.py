"""The reports of a check: one model, the tables read from it, one module per rendering.

- :mod:`.model` builds the report model (``report.json``'s data) once from a
  check result; it computes nothing that needs a file.
  It leaves to :mod:`.land` the land of each group (the union of its
  conflicts, ground counted once), to :mod:`.issues` the 问题清单 and to
  :mod:`.verdict` the verdict and each rule's status.
- :mod:`.tables` defines the tables every document shows, their columns by key
  (the review's in :mod:`.review_tables`, the parts in :mod:`.table_types`).
- :mod:`.format` is the one place for number formats, Chinese dates and display width.
- :mod:`.json`, :mod:`.html` (with the charts of :mod:`.svg`), :mod:`.xlsx`,
  :mod:`.docx`, :mod:`.md` and :mod:`.terminal` each render the model (a
  ``Mapping`` as ``report.json`` holds it) and nothing else.
"""
