"""The server in a child process with a low descriptor limit, for the tests that run out.

    python -m tests.serve.rlimited OUT_DIR --nofile 200 [--reserve 64] [--hog 0]

Sets the soft RLIMIT_NOFILE, serves OUT_DIR on 127.0.0.1 as the daemon does,
prints the port, then (``--hog N``) opens N more descriptors, as the rest of
a process might, so that accepting runs out of them before the connection
limit is reached.  Each line ``counts`` on its standard input is answered
with the guard's counts as one JSON line; it stops when its standard input
closes.  Logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import resource
import sys
from pathlib import Path

from aggregator.serve import Limits, Server, create_app


async def serve(out: Path, reserve: int, hog: int) -> None:
    app = create_app(out, status=dict, healthy=lambda: True, opml=lambda: b"")
    server = Server(app, limits=Limits(reserve_descriptors=reserve))
    await server.start("127.0.0.1", 0)
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(hog)]
    print(server.port, flush=True)
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, sys.stdin.readline):  # until the test closes it
        assert server.guard is not None
        print(json.dumps(dataclasses.asdict(server.guard.counts)), flush=True)
    await server.stop()
    for fd in held:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--nofile", type=int, required=True)
    parser.add_argument("--reserve", type=int, default=64)
    parser.add_argument("--hog", type=int, default=0)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, hard))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(serve(args.out, args.reserve, args.hog))


if __name__ == "__main__":
    main()
