"""Publishing after a pass: the latest items, summarized, as every output file.

    publish_if_changed()
      = nothing, if what the output depends on is unchanged   (a hash of it in the store)
      | latest items -> summaries missing under today's settings (the workers)
      | entries + section digests -> every output file          (:mod:`.publish`)

An item that cannot be summarized is published without a summary (and tried
again next time); an entry that cannot be rendered is left out and named in
the log.  Neither stops the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from . import __version__
from .config import Config
from .errors import bug_details, bug_message
from .filters import EntryFields
from .models import Entry, Summary
from .outputs import MERGED, OPML
from .store import Store, StoredItem
from .workers import POOL_MIN_BYTES, Workers

if TYPE_CHECKING:
    from .publish import PublishReport
    from .summarize.job import SummaryJob

log = logging.getLogger(__name__)

# Changes whenever what is published from the same stored state changes.
_PUBLISH_FORMAT = 1


class Publisher:
    """Publishes one store's latest items under one configuration, with the given workers."""

    def __init__(self, config: Config, store: Store, workers: Workers):
        self.config = config
        self.store = store
        self._workers = workers
        self._sources = {s.name: s for s in config.sources}

    def summary_job(self, item: StoredItem) -> SummaryJob:
        from .summarize.job import SummaryJob

        source = self._sources.get(item.lead_source)
        return SummaryJob.of(
            item.content_html,
            item.language,
            self.config.summary,
            source.algorithm if source else None,
        )

    async def _summarize_jobs(self, jobs: Sequence[SummaryJob]) -> int:
        by_key = {job.key: job for job in jobs}
        known = self.store.summaries(list(by_key))
        missing = [job for key, job in by_key.items() if key not in known]
        if not missing:
            return 0
        size = sum(len(job.html) for job in missing)
        results = await self._workers.map(_summarize_one, missing, heavy=size > POOL_MIN_BYTES)
        made = {}
        for job, result in zip(missing, results, strict=True):
            if isinstance(result, Summary):
                made[job.key] = result
            else:  # published without a summary; tried again next time
                log.error("cannot summarize an item (summary key %s): %s", job.key, result[0])
                log.debug("%s", result[1])
        with self.store.transaction():
            self.store.save_summaries(made)
            self.store.bump_generation()
        return len(made)

    async def publish_if_changed(self) -> tuple[int, PublishReport | None]:
        """Publish unless nothing that the output depends on changed since the last time.

        Returns how many summaries had to be made first (those of published
        items made under other settings) and the publish report, None when
        publishing was not needed.
        """
        if self.store.get_meta("published") == self._publish_state() and self._outputs_exist():
            return 0, None
        # Only what configured sources carry: a source removed from feeds.yaml
        # leaves the published feeds at once (its items stay stored).  A
        # paused one stays published (enabled: false is not a removal).
        items = [
            item
            for item in self.store.latest_items(
                self.config.output.max_entries, sources=self._sources
            )
            if not self._left_out(item)
        ]
        # One job per published item serves both steps: making a job resolves
        # the item's language and hashes its text, which is not free.
        jobs = [self.summary_job(item) for item in items]
        summarized = await self._summarize_jobs(jobs)
        report = self._publish(items, [job.key for job in jobs])
        with self.store.transaction():
            self.store.set_meta("published", self._publish_state())
        return summarized, report

    def _left_out(self, item: StoredItem) -> bool:
        """Whether a filter rule added or an item changed since it was stored
        leaves it out now (see :meth:`.filters.Filters.for_stored`)."""
        source = self._sources.get(item.lead_source)
        rules = source.filters.for_stored() if source is not None else None
        if not rules:
            return False
        fields = EntryFields(item.title, item.content_html, item.author, item.link)
        return rules.leaving_out(fields) is not None

    def _publish(self, items: Sequence[StoredItem], keys: Sequence[str]) -> PublishReport:
        """Render and write the given items (newest first), with their summaries by key."""
        from .models import FeedMeta
        from .publish import publish, write_if_changed
        from .summarize.digest import build_digests

        summaries = self.store.summaries(keys)
        entries = [
            _entry(item, summaries.get(key), self._sources)
            for item, key in zip(items, keys, strict=True)
        ]
        digests = build_digests(
            entries,
            window=timedelta(seconds=self.config.digest.window),
            sentences=self.config.digest.sentences,
            page_url=self.config.base_url,
        )
        # Newest first; a digest before the items of its window, as it sums them up.
        merged = sorted(
            [*entries, *digests], key=lambda e: (e.published, bool(e.digest), e.id), reverse=True
        )
        meta = FeedMeta(
            title=self.config.title, base_url=self.config.base_url, sections=self.config.sections
        )
        report = publish(merged, meta, self.config.output.dir)
        # The subscription list, beside the feeds: a static server of the
        # output directory serves it as the daemon does.
        opml = self.config.output.dir / OPML.name
        if write_if_changed(opml, sources_opml(self.config, self.store)):
            report.written.append(OPML.name)
        else:
            report.unchanged.append(OPML.name)
        for _unrendered, error in report.unrenderable:
            log.error("%s", error)
            log.debug("%s", error.details)
        return report

    def _publish_state(self) -> str:
        """Everything the published files depend on, as one hash: the store's
        generation, the settings that shape the output, and this program's version."""
        config = self.config
        facts = {
            "generation": self.store.get_meta("generation"),
            "format": _PUBLISH_FORMAT,
            "version": __version__,
            "title": config.title,
            "base_url": config.base_url,
            "max_entries": config.output.max_entries,
            "summary": [
                config.summary.sentences,
                config.summary.max_sentences,
                config.summary.words_per_sentence,
                config.summary.algorithm,
                config.summary.language,
            ],
            "digest": [config.digest.window, config.digest.sentences],
            "sources": [
                [s.name, s.section, s.algorithm, s.location, s.filters.signature()]
                for s in config.sources
            ],
        }
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()

    def _outputs_exist(self) -> bool:
        out = self.config.output.dir
        return all((out / output.name).is_file() for output in MERGED)


def _entry(item: StoredItem, summary: Summary | None, configured: Collection[str]) -> Entry:
    # A copy from a source no longer configured is not credited (its story
    # is published because a configured source carries it too).
    sources = tuple(ref for ref in item.sources if ref.name in configured) or item.sources
    return Entry(
        id=item.uid,
        title=item.title or "(untitled)",
        link=item.link,
        published=item.published,
        updated=max(item.updated, item.published),
        section=item.section,
        summary=summary or Summary(()),
        sources=sources,
        author=item.author,
        language=item.language,
    )


def sources_opml(config: Config, store: Store) -> bytes:
    """The configured sources as OPML, at the addresses they now live at."""
    from .publish.opml import OpmlSource, render_opml

    states = {s.name: s for s in store.source_states(counts=False)}
    sources = [
        OpmlSource(
            name=source.name,
            section=source.section,
            xml_url=(states[source.name].url if source.name in states else None) or source.url,
            html_url=states[source.name].site_link if source.name in states else None,
        )
        for source in config.sources
    ]
    return render_opml(sources, title=config.title)


def _summarize_one(job: SummaryJob) -> Summary | tuple[str, str]:
    """The summary, or a bug's message and traceback: one item's, not the pass's."""
    try:
        return job.run()
    except Exception as exc:
        return bug_message("summarizing", exc), bug_details(exc)
