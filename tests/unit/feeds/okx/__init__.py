"""Tests of the okx sans-I/O protocol package."""
