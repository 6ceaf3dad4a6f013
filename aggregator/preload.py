"""Imported by the workers' fork server only (it is last in
:data:`.ingest.WORKER_MODULES`): what nearly every worker loads on its first
jobs, loaded once, before any worker is forked.

The pages then stay shared between the workers instead of being copied into
each: the language detector's model and the English sentence model (about
20 MB in a worker).  The detector's two large tables are mapped from a file
and left unread here: their pages are shared through the system's page
cache by whichever workers detect a language.  A worker process for one
large job (:mod:`.workers`) starts with them too.

Not chardet's models (about 27 MB), which feedparser loads only for a
document that none of its declared encodings decodes: nearly every pass
would hold them for nothing.  Such a document is read in a process of its
own, which loads them and ends (:func:`.parse.feed.refusing_encoding_detector`).

``gc.freeze()`` last: a collection in a worker would otherwise write to the
header of every object loaded here, and copy the page it is on.  This module
has no names of its own; nothing should import it but the fork server.
"""

from __future__ import annotations

import gc

from .config import SummaryConfig
from .summarize.job import SummaryJob
from .summarize.language import warm_up_detector

_TEXT = (
    "<p>The council met on Monday to discuss the budget. Its members agreed on a plan, "
    "which the mayor will present next week. Residents may comment until Friday.</p>"
)

# The detector's model: its small tables and the mapping of its large ones.
# Not a detection: that would map into this process every page of the large
# tables it reads, and the kernel maps pages around each one read (5 to 37
# MB of their 67 for one short text, as the file's pages were cached),
# counted in the pass's memory though no worker may ever detect a language.
# The pages are the file's, in the system's page cache: a worker that
# detects maps them from there, shared with every other.
warm_up_detector()
# The English sentence model, stemmer and stop words, as an entry in English
# uses them.
SummaryJob.of(_TEXT, "en", SummaryConfig()).run()
gc.freeze()
