"""feeds/binance/protocol package."""
