"""Imported by the fork server of :mod:`.workers`' pool, and by nothing else:
the fork server and every worker it forks die with their parent.

Without this, ``kill -9`` of the process that owns the pool leaves the whole
pool running for good: every worker holds the write end of its own job
queue and of the fork server's "alive" pipe, so none of them ever reads an
end of file; the resource tracker waits for them.  Linux's parent-death
signal breaks that knot: the fork server gets SIGKILL when the thread that
started it ends (the event loop's thread, which owns the pool), and each
worker when the fork server ends.  The resource tracker then sees the end of
its pipe and exits by itself, after removing what the pool left behind.

Elsewhere than on Linux this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> bool:
    """Ask the kernel for SIGKILL when this process's parent ends; False if it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)


_forking = 0  # the pid of the process that is forking


def _before_fork() -> None:
    global _forking
    _forking = os.getpid()


def _after_fork_in_child() -> None:
    die_with_parent()
    # The parent may have died between the fork and the line above, and then
    # no signal comes: this process would be adopted and never told.
    if os.getppid() != _forking:
        os._exit(1)


# The fork server itself.  If its parent is already gone, no signal comes,
# but then the alive pipe is closed too, and the fork server exits before it
# forks anything.
if die_with_parent():
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)

# SIGHUP and SIGTERM are for the owner of the pool: the daemon reads its
# configuration again, or lets the work under way finish (its stop grace)
# before it stops the pool itself (Workers.terminate: SIGKILL).  But a signal
# sent to the process group reaches the fork server and the workers too, whose
# default is to die of it, the pool broken under the jobs: a terminal closed
# or `kill -HUP -PGID`, and `systemctl stop`, which sends SIGTERM to every
# process of the service.  Ignored by the fork server, and so by every worker
# it forks (they keep what it ignores), as Python's fork server ignores Ctrl-C.
signal.signal(signal.SIGHUP, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
