"""feeds/gate package."""
