"""The commands of ``aggregate`` that are tools of their own, and what commands share.

    arguments.py   exit codes; argparse with a usage error as one line
    summarize.py   ``aggregate summarize``: key sentences of one text, a URL or JSON lines

``aggregator/cli.py`` is the entry point: it runs the daemon, ``--once``,
``status`` and ``duplicates`` itself and hands ``summarize`` to its module.
"""
