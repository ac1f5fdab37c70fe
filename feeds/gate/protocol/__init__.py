"""feeds/gate/protocol package."""
