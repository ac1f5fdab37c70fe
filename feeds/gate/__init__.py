"""Gate (APIv4, spot): the sans-I/O wire protocol lives in `feeds.gate.protocol`; the feed,
the order gateway and the simulated Gate venue all speak through it."""
