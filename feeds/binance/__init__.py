"""feeds/binance package."""
