"""Gate protocol unit tests."""
