"""aggregator: an RSS/Atom/JSON Feed aggregator and summarizer."""

# Also in pyproject.toml; tests/test_version.py keeps the two equal.  A
# constant, not importlib.metadata: that import alone is a fiftieth of a pass
# in which nothing changed.
__version__ = "0.1.0"
