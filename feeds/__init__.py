"""Everything that speaks a venue's wire protocol: feeds, gateways and the simulated venues."""
from pipeline.compiled_guard import install as _install_compiled_guard

_install_compiled_guard()   # before any compiled module here is imported: no stale build runs
