"""Shared-memory transport: ring buffers, book slots, wait strategies and the segment registry."""
