"""The process tree of a subprocess, read from Linux's /proc: which processes
it started (a worker pool's fork server, workers and resource tracker among
them), whether they still run, and how much CPU they have used."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    """A process by pid and start time, so a reused pid is not taken for it."""

    pid: int
    started: int  # clock ticks after boot

    def running(self) -> bool:
        """Still there, and not a zombie (which has stopped; only its parent's wait is missing)."""
        fields = _stat(self.pid)
        return fields is not None and int(fields[19]) == self.started and fields[0] != "Z"


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat from the state on (the command name, which may
    hold spaces and parentheses, is cut off); None if there is no such process."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def tree(root: int) -> list[Process]:
    """``root`` and every process it started, and they started, that still runs."""
    children: dict[int, list[int]] = {}
    started: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None or fields[0] == "Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        started[int(entry.name)] = int(fields[19])
    found = []
    pending = [root]
    while pending:
        pid = pending.pop()
        if pid in started:
            found.append(Process(pid, started[pid]))
        pending += children.get(pid, [])
    return found


def cpu_seconds(processes: list[Process]) -> float:
    """User and system CPU time the running ones of ``processes`` have used."""
    ticks = 0
    for process in processes:
        fields = _stat(process.pid)
        if fields is not None and int(fields[19]) == process.started:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / TICKS_PER_SECOND
