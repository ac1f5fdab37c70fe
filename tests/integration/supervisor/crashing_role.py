"""A role that crashes on its first N starts (counted in a file), then behaves."""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.process import ProcessContext
from tests.integration.supervisor import roles


def main(ctx: ProcessContext) -> int:
    counter = Path(os.environ["HFT_TEST_CRASH_FILE"])
    n = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(n + 1))
    if n < int(os.environ.get("HFT_TEST_CRASHES", "2")):
        raise RuntimeError(f"deliberate crash #{n + 1}")
    return roles.main(ctx)
