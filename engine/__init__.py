"""The trading engine: strategy, OMS, RMS and router."""
