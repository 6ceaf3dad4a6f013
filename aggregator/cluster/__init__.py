"""Scale-out: many processes on many machines over one PostgreSQL database.

    feeds.yaml (store: postgresql://...)
        |
        +-- aggregate             (daemon, 1 or more)   tick + serve the published feed
        +-- aggregate worker      (any number, anywhere) tick + run jobs
        +-- aggregate --once      (now and then)         queue every source, run jobs, publish
        |
    PostgreSQL: the store (sources and their schedule, items, the near-duplicate
    index, summaries) and procrastinate's job queue, side by side

The schedule is data: each source's next due time is in the store, and any
process's tick claims what is due (:meth:`Store.claim_due`, one indexed
query) and queues one poll job per source.  procrastinate runs the jobs:
each poll under its source's lock (never two polls of one source at once,
anywhere), publishing under one lock, every job retried when the worker that
held it stops sending heartbeats.  Near-duplicates found by two workers at
once are decided one after the other (:meth:`Store.lock_for_merge`).

SQLite needs none of this: one process, :mod:`aggregator.pipeline` alone.
"""
