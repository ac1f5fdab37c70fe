"""Persistence: PostgreSQL (COPY), Redis live state, capture files."""
