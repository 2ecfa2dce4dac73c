"""What a process tree costs, read from Linux's /proc: resident memory and CPU time.

For the benchmarks, which report the web (a gunicorn master and its workers) and the worker (the
celery main process and its pool children) each as one figure. Linux only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Usage:
    """One process: its id, its command name, its resident memory (VmRSS) in KiB, and its
    proportional share of it (Pss: a page shared by n processes counts 1/n in each; forked
    children share their parent's pages until they write them), or None where not readable."""

    pid: int
    name: str
    rss_kib: int
    pss_kib: int | None = None


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (every thread's), or [] when it is gone."""
    found: list[int] = []
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return sorted(set(found))


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, parents first."""
    pids = [pid]
    for parent in pids:  # grows as we go: a breadth-first walk
        pids.extend(child for child in children(parent) if child not in pids)
    return pids


def usage(pid: int) -> Usage | None:
    """Name and VmRSS of one process; None when it is gone (or a zombie, with no VmRSS)."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss = fields.get("VmRSS", "").split()
    if not rss:
        return None
    return Usage(pid, fields.get("Name", "?").strip(), int(rss[0]), _pss_kib(pid))


def _pss_kib(pid: int) -> int | None:
    try:
        rollup = (PROC / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return None
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return None


def tree_usage(pid: int) -> list[Usage]:
    """:func:`usage` of ``pid`` and each live descendant, parents first."""
    return [found for found in map(usage, tree(pid)) if found is not None]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used so far (its own threads, not its children)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    # The command name, in parentheses, may hold spaces: split after its closing one.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """:func:`cpu_seconds` summed over ``pid`` and its live descendants."""
    return sum(cpu_seconds(member) for member in tree(pid))
