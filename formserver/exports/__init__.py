"""Streaming writers for data exports (Excel workbooks and zipped CSV files)."""
