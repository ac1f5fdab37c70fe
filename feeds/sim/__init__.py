"""feeds/sim package."""
