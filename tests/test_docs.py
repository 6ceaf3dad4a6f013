"""Docs kept honest: every configuration key is documented, and the README's
commands are the ones .ci/run runs."""

from __future__ import annotations

import re
import subprocess

import pytest

from aggregator import config
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def documented_keys() -> set[str]:
    reference = README.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", reference, flags=re.MULTILINE))


def all_keys() -> set[str]:
    keys = set(config.TOP_KEYS)
    keys |= {f"output.{k}" for k in config.OUTPUT_KEYS}
    keys |= {f"fetch.{k}" for k in config.FETCH_KEYS}
    keys |= {f"summary.{k}" for k in config.SUMMARY_KEYS}
    keys |= {f"serve.{k}" for k in config.SERVE_KEYS}
    keys |= {f"digest.{k}" for k in config.DIGEST_KEYS}
    keys |= {f"dedup.{k}" for k in config.DEDUP_KEYS}
    keys |= {f"cluster.{k}" for k in config.CLUSTER_KEYS}
    keys |= {f"websub.{k}" for k in config.WEBSUB_KEYS}
    keys |= {f"sources[].{k}" for k in config.SOURCE_KEYS}
    return keys


def test_every_config_key_is_documented() -> None:
    assert all_keys() - documented_keys() == set()


def test_no_documented_key_is_unknown() -> None:
    assert documented_keys() - all_keys() == set()


@pytest.mark.parametrize(("tag", "expected"), [("run", "aggregate --once"), ("test", "pytest")])
def test_ci_runs_the_readme_commands(tag: str, expected: str) -> None:
    script = REPO / ".ci" / "run"
    extracted = subprocess.run(
        [
            "bash",
            "-c",
            f'source <(sed -n "/^readme_command()/,/^}}/p" {script}); readme_command {tag}',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert extracted.startswith("python3 -m venv .venv && .venv/bin/pip install ")
    assert extracted.endswith(expected)
    assert extracted in README
