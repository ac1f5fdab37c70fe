"""Everything that speaks a venue's wire protocol: feeds, gateways and the simulated venues."""
