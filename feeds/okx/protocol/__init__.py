"""feeds/okx/protocol package."""
