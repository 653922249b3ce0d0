"""A served process leaves its start-up objects out of the garbage collector's walks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc
from facito_admin.bootstrap import settle_startup_heap
before = gc.get_freeze_count()
settle_startup_heap()
print(before, gc.get_freeze_count(), *gc.get_threshold())
"""


def test_settling_the_heap_freezes_what_exists_and_collects_young_objects_less_often():
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    before, frozen, *threshold = (int(n) for n in result.stdout.split())
    assert before == 0
    assert frozen > 10_000  # the modules and models imported at start-up
    assert threshold == [10_000, 10, 10]


def test_the_wsgi_entry_point_and_the_worker_settle_the_heap():
    for entry in ("wsgi.py", "src/facito_admin/cli.py"):
        assert "settle_startup_heap()" in (ROOT / entry).read_text(encoding="utf-8"), entry
