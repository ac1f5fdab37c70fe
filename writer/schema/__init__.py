"""Versioned SQL migrations (package data), applied in file-name order by writer.postgres.migrate."""
