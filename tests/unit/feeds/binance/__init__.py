"""Unit tests of the Binance sans-I/O protocol package."""
