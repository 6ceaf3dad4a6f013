"""What every command shares: its exit codes, and argparse with one-line errors."""

from __future__ import annotations

import argparse

EXIT_OK = 0
EXIT_FAILED = 1  # the work failed (every source, the database, the output)
EXIT_CONFIG = 2  # a configuration or usage error


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (no usage block) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message}\n")
