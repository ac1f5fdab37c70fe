"""A role whose very first start (across all processes using it) beats once, then hangs
without heart-beating (a wedged process); every other start behaves."""
from __future__ import annotations

import os
import time

from pipeline.process import ProcessContext
from tests.integration.supervisor import roles


def main(ctx: ProcessContext) -> int:
    path = os.environ["HFT_TEST_SILENT_FILE"]
    with open(path, "a") as f:  # one line per start (appends are atomic)
        f.write(f"{ctx.name}\n")
    try:
        fd = os.open(path + ".wedged", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return roles.main(ctx)
    os.close(fd)
    ctx.beat()        # up and running ...
    time.sleep(3600)  # wedged: no heartbeat; the supervisor must kill and restart it
    return 0
