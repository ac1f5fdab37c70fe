"""OKX (API v5) spot: the sans-I/O wire codec lives in `feeds.okx.protocol`; the adapter that
wires it into the generic feed and gateway processes sits beside it."""
