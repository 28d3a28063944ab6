"""Warehouse engines: the embedded DuckDB default and Databricks SQL."""
