"""The version the package reports is the one it was installed as."""

from __future__ import annotations

import tomllib
from importlib.metadata import version

import aggregator
from tests.conftest import REPO


def test_the_package_version_is_the_projects() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert aggregator.__version__ == project["version"]
    assert aggregator.__version__ == version("aggregator")
