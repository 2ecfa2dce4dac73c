"""Reading a process tree's memory and CPU from /proc, as the benchmarks do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.support import procfs

# A parent that starts a child which holds 50 MiB, then both wait to be killed.
FAMILY = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import time; held = bytearray(50 * 1024 * 1024); print('ready', flush=True); time.sleep(60)"],
    stdout=sys.stdout)
time.sleep(60)
"""


def test_tree_usage_sums_a_parent_and_its_child() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", FAMILY], stdout=subprocess.PIPE, text=True
    ) as parent:
        family = [parent.pid]
        try:
            assert parent.stdout is not None
            assert parent.stdout.readline().strip() == "ready"
            family = procfs.tree(parent.pid)
            members = procfs.tree_usage(parent.pid)

            assert family[0] == parent.pid and len(family) == 2
            assert [member.pid for member in members] == family
            child = members[1]
            assert child.name.startswith("python")
            assert child.rss_kib > 50 * 1024  # the bytearray is resident: it was zero-filled
            assert members[0].rss_kib < child.rss_kib
            # Its own pages, shared with no one: its share of them is all of them.
            assert child.pss_kib is not None and child.pss_kib > 50 * 1024
            assert child.pss_kib <= child.rss_kib
        finally:
            for pid in reversed(family):
                os.kill(pid, signal.SIGKILL)


def test_a_process_that_is_gone_has_no_usage_and_no_cpu() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert procfs.usage(gone.pid) is None
    assert procfs.tree_usage(gone.pid) == []
    assert procfs.cpu_seconds(gone.pid) == 0.0


def test_cpu_seconds_grow_while_a_process_works() -> None:
    busy = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 5\nwhile time.time() < end: pass"]
    )
    try:
        time.sleep(0.3)
        first = procfs.tree_cpu_seconds(busy.pid)
        time.sleep(0.7)
        assert procfs.tree_cpu_seconds(busy.pid) > first
    finally:
        busy.kill()
        busy.wait()
