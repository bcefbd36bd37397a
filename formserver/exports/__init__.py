"""Data exports: a form's submissions as an Excel workbook or a zip of CSV files.

- ``spreadsheet/``, ``csvzip.py``: the streaming writers (xlsx, zipped CSV), both writing into
  ``zipstream.py``'s zip archive that never seeks;
- ``flatten.py``: the flattened copy of each submission (``Submission.data``) that exports read;
- ``columns.py``: the tables and columns of an export (versions merged, labels, typed cells);
- ``export.py``: one export, streamed from the database to a file (``run_export``);
- ``jobs.py``: exports as background jobs (the API the web pages use);
- ``samples.py``: submissions made without a phone, for tests and benchmarks.

``formserver export`` is ``formserver/cli/exports.py``.
"""
