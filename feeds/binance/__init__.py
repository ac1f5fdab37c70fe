"""Binance spot venue: the sans-I/O `protocol` package (and the adapter that wires it in)."""
