"""What both command lines (``cebe-theory`` and ``cebe-deep``) share: one-line usage errors.

Bad input must print one line ``PROGRAM: error: ...`` and exit with status 2, without argparse's usage
dump or a traceback. The project's input-error type is :class:`~cebe_theory.errors.InputError` (re-exported
here); :class:`OneLineParser` turns argparse's errors into :class:`UsageError`, a subclass, so that each
``main`` catches ``InputError`` alone (plus ``OSError`` on the user's paths) and a real bug still shows its
traceback.

>>> parser = OneLineParser(prog="demo")
>>> _ = parser.add_argument("--n", type=int)
>>> try:
...     parser.parse_args(["--n", "x"])
... except InputError as error:
...     print(error)
argument --n: invalid int value: 'x'
"""

import argparse
import math
import os
from dataclasses import dataclass
from pathlib import Path

from cebe_theory.errors import InputError

__all__ = ["InputError", "UsageError", "OneLineParser", "write_user_file", "finite_number", "output_folder",
           "AvailableMemory", "available_memory", "size_text", "duration_text"]


class UsageError(InputError):
    """Bad command-line input (argparse's own errors included); reported as one line with exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message):
        raise UsageError(message)


def write_user_file(path, flag: str, write) -> None:
    """Run ``write(path)`` for a file the user named with ``flag``, atomically: the writer fills a temporary file
    beside it (same suffix, so matplotlib and pandas infer the format), which then replaces ``path``, so an error
    or an interrupt midway never leaves a half-written file or a figure drawn from less data in its place.  A
    folder is filled in place.  An ``OSError`` (disk full, permissions changed meanwhile) becomes one
    :class:`UsageError` line naming the flag and the path."""
    path = Path(path)
    temporary = None if path.is_dir() else path.with_name(f".{path.name}.partial{path.suffix}")
    try:
        write(path if temporary is None else temporary)
        if temporary is not None and temporary.exists():  # (a writer may write the final name itself)
            os.replace(temporary, path)
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot write ({error.strerror or error})") from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def finite_number(text: str) -> float:
    """An argparse ``type``: a finite float, else argparse's one-line error naming the text."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def output_folder(path, flag: str) -> Path:
    """Create the folder the user named with ``flag`` (with parents), before any work, and check that it is
    writable; otherwise one :class:`UsageError` line naming the flag and the path."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot create this folder ({error.strerror or error})") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{flag} {path}: this folder is not writable")
    return folder


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
