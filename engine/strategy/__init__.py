"""engine/strategy package."""
