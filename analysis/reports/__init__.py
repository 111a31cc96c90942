"""The reports of a check: one model, the tables read from it, one module per rendering.

- :mod:`.model` builds the report model (``report.json``'s data) once from a
  check result; it computes nothing that needs a file.
- :mod:`.tables` defines the tables every document shows, their columns by key.
- :mod:`.format` is the one place for number formats and display width.
- :mod:`.json`, :mod:`.html` (with the charts of :mod:`.svg`), :mod:`.xlsx`,
  :mod:`.docx`, :mod:`.md` and :mod:`.terminal` each render the model (a
  ``Mapping`` as ``report.json`` holds it) and nothing else.
"""
