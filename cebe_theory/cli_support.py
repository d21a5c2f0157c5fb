"""What ``cebe-theory`` needs before it builds a grid: the memory available and sizes/durations as text.

The command-line plumbing both halves share (one-line usage errors, atomic writes) is in the top-level module
``cebe_cli``.

>>> size_text(3 * 2**30)
'3.0 GiB'
"""

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["AvailableMemory", "available_memory", "size_text", "duration_text"]


# ----------------------------------------------------------------------------------------- memory and time
@dataclass(frozen=True)
class AvailableMemory:
    """Bytes a new allocation can take without swapping, and where the number was read."""

    bytes: int
    source: str


def _meminfo_available(meminfo: Path) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                value, unit = line.split()[1:3]
                return int(value) * 1024 if unit == "kB" else None
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom(cgroup: Path) -> int | None:
    """Memory left under a cgroup v2 limit (a container's), or None where there is no limit or no cgroup."""
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(int(limit) - int((cgroup / "memory.current").read_text().strip()), 0)
    except (OSError, ValueError):
        return None


def available_memory(meminfo: Path = Path("/proc/meminfo"), cgroup: Path = Path("/sys/fs/cgroup")) -> AvailableMemory | None:
    """The memory available to a new allocation: the kernel's ``MemAvailable`` (``/proc/meminfo``, Linux), else
    the free physical pages (``os.sysconf``); the smaller of that and the room under a cgroup v2 memory limit
    (a container's). ``None`` where none of these can be read (the caller then cannot judge, and should not
    refuse)."""
    found = _meminfo_available(meminfo)
    source = "MemAvailable in /proc/meminfo"
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            source = "free physical memory (sysconf)"
        except (ValueError, OSError, AttributeError):
            return None
    headroom = _cgroup_headroom(cgroup)
    if headroom is not None and headroom < found:
        found, source = headroom, "room under the cgroup memory limit"
    return AvailableMemory(int(found), source)


def size_text(size: float) -> str:
    """``1536`` -> ``"1.5 KiB"``, binary units up to PiB.

    >>> size_text(3 * 2**30), size_text(80e15)
    ('3.0 GiB', '71.1 PiB')
    """
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"


def duration_text(seconds: float) -> str:
    """A rough duration: ``"40 s"``, ``"12 minutes"``, ``"3.5 hours"``, ``"9 days"``, ``"2.1 years"``.

    >>> duration_text(40), duration_text(720), duration_text(3.5 * 3600), duration_text(2.1 * 365.25 * 86400)
    ('40 s', '12 minutes', '3.5 hours', '2.1 years')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    if seconds < 365.25 * 86400:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / (365.25 * 86400):.1f} years"
