"""Sinks: terminal tables, JSON, CSV/Parquet and the HTML report."""
