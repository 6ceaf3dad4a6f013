"""benchmarks/parse.py and benchmarks/parse_differential.py at a tiny size, so they do not rot."""

from __future__ import annotations

import contextlib
import importlib.util
import io
from types import ModuleType

from tests.conftest import DATA, REPO


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", REPO / "benchmarks" / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(module: ModuleType, argv: list[str]) -> tuple[int, str]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = module.main(argv)
    return code, output.getvalue()


def test_the_benchmark_feeds_are_all_read_by_the_fast_reader_alike() -> None:
    code, text = run(load("parse.py"), ["--feeds", "4", "--items", "3"])
    assert code == 0, text
    assert "(documents read by {'lxml': 4})" in text
    assert "feeds differing from feedparser's: 0" in text


def test_the_differential_over_the_fixtures() -> None:
    code, text = run(load("parse_differential.py"), [str(DATA / "differential")])
    assert code == 0, text
    claimed = sum(
        b"fast reader: claims" in path.read_bytes() for path in (DATA / "differential").iterdir()
    )
    assert f"claimed {2 * claimed}, equal {2 * claimed}, differing 0" in text
