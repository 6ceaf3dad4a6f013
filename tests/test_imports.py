"""Each third-party library is imported in one module of the package.

The rest of the package goes through that module, so that a library's
quirks, version checks and install hints live in one place: PyYAML in
``config.py``, sumy in ``summarize/sumy_adapter.py``, lxml in
``lxml_tree.py``...  Read from the source (``ast``), not by importing it,
so every import counts wherever it stands: in a function, under ``if
TYPE_CHECKING:``, or by name (``import_module("sumy.summarizers.lsa")``,
``resources.files("sumy")``, which imports the package to find its data).
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict

from tests.conftest import REPO

PACKAGE = REPO / "aggregator"

# The libraries still imported in several modules, each with exactly the
# modules that do.  An entry is exact both ways: another module importing
# one of these fails, and so does an entry no longer needed, so the list
# only shrinks.  Nothing else belongs here: a library new to the package
# gets one module of its own.
SEVERAL_MODULES: dict[str, frozenset[str]] = {
    # The HTTP client and the HTTP server: two halves of aiohttp with no API
    # in common (ClientSession and its resolver; web.Application), each
    # already in one module of its side.
    "aiohttp": frozenset({"aggregator/fetch/http.py", "aggregator/serve/app.py"}),
    # The array language four algorithms are written in, not a seam: a
    # module of its own would hand on most of numpy's API.  Each imports it
    # where a pass in which nothing changed does not pay for it.
    "numpy": frozenset(
        {
            "aggregator/dedup/near.py",  # MinHash signatures and band keys
            "aggregator/store/band_filter.py",  # the Bloom filter of band keys
            "aggregator/summarize/language.py",  # py3langid's model, memory-mapped
            "aggregator/summarize/positional.py",  # the default summarizer, long sections
        }
    ),
}


def _named(call: ast.Call) -> str | None:
    """The module a call imports by name, where the code spells its start out:
    ``import_module`` (bare or as ``importlib.import_module``), ``__import__``,
    and ``resources.files`` (importlib.resources: the package is imported to
    find its files)."""
    func = call.func
    if isinstance(func, ast.Name):
        importing = func.id in ("import_module", "__import__")
    elif isinstance(func, ast.Attribute):
        on_resources = isinstance(func.value, ast.Name) and func.value.id == "resources"
        importing = func.attr == "import_module" or (func.attr == "files" and on_resources)
    else:
        importing = False
    if not importing or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.JoinedStr) and first.values:  # f"sumy.summarizers.{name}"
        first = first.values[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def imported_modules(source: str) -> set[str]:
    """The top-level names of every module ``source`` imports (relative imports left out)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Call) and (named := _named(node)):
            found.add(named)
    return {name.split(".")[0] for name in found if name.split(".")[0]}


def third_party_importers() -> dict[str, set[str]]:
    """Each third-party library the package imports -> the modules that import it."""
    importers: dict[str, set[str]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(REPO).as_posix()
        for name in imported_modules(path.read_text(encoding="utf-8")):
            if name not in sys.stdlib_module_names and name not in ("aggregator", "__future__"):
                importers[name].add(module)
    return importers


def test_each_third_party_library_is_imported_in_one_module() -> None:
    importers = third_party_importers()
    several = {name: modules for name, modules in importers.items() if len(modules) > 1}
    unexpected = {
        name: sorted(modules)
        for name, modules in several.items()
        if modules != SEVERAL_MODULES.get(name)
    }
    assert unexpected == {}, "import the library in one module, and go through it elsewhere"
    stale = sorted(set(SEVERAL_MODULES) - set(several))
    assert stale == [], "no longer imported in several modules: take it out of SEVERAL_MODULES"


def test_the_scan_finds_the_libraries_where_they_are() -> None:
    importers = third_party_importers()
    assert importers["yaml"] == {"aggregator/config.py"}
    assert importers["ruamel"] == {"aggregator/feeds_file.py"}  # in functions, TYPE_CHECKING
    assert importers["sumy"] == {"aggregator/summarize/sumy_adapter.py"}
    assert importers["lxml"] == {"aggregator/lxml_tree.py"}
    assert importers["feedparser"] == {"aggregator/parse/feed.py"}


def test_imports_in_functions_by_name_and_for_type_checking_count() -> None:
    source = """
from typing import TYPE_CHECKING
from . import sibling
from .sub import other
if TYPE_CHECKING:
    from ruamel.yaml import YAML
def f(name):
    import numpy as np
    from lxml.cssselect import LxmlHTMLTranslator
    import_module(f"sumy.summarizers.{name}")
    importlib.import_module("yaml")
    __import__("nh3")
    resources.files("stop_words")
    files("not_an_import")
    import_module(name)
"""
    assert imported_modules(source) == {
        *("typing", "ruamel", "numpy", "lxml", "sumy", "yaml", "nh3", "stop_words"),
    }
