"""`settle_after_startup`: the start-up heap is frozen out of the collector's scans and the
young generation is collected less often; cycles made afterwards are still collected."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

CHECK = textwrap.dedent("""
    import gc, weakref
    from pipeline.gc_tuning import GEN0_THRESHOLD, settle_after_startup
    startup = [[i] for i in range(1000)]
    settle_after_startup()
    assert gc.get_threshold()[0] == GEN0_THRESHOLD, gc.get_threshold()
    assert gc.get_freeze_count() >= len(startup), gc.get_freeze_count()
    class Node:
        pass
    a, b = Node(), Node()
    a.other, b.other = b, a        # a cycle made after start-up
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None
    print("ok")
""")


def test_startup_heap_is_frozen_and_later_cycles_are_still_collected() -> None:
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         cwd=root, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
