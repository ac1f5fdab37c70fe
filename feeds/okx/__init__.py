"""feeds/okx package."""
