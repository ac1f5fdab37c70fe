"""A role that beats once, then hangs without heart-beating (a wedged process)."""
from __future__ import annotations

import os
import time
from pathlib import Path

from pipeline.process import ProcessContext
from tests.integration.supervisor import roles


def main(ctx: ProcessContext) -> int:
    counter = Path(os.environ["HFT_TEST_SILENT_FILE"])
    n = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(n + 1))
    if n == 0:
        time.sleep(3600)  # wedged: no heartbeat; the supervisor must kill and restart it
    return roles.main(ctx)
