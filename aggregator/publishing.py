"""Publishing after a pass: the latest items, summarized, as every output file.

    publish_if_changed()
      = items past ``retention`` deleted                       (the store, one call)
        then nothing, if what the output depends on is unchanged   (a hash of it in the store)
      | latest items -> summaries missing under today's settings (the workers)
      | entries + section digests -> every output file          (:mod:`.publish`)
      | the WebSub hubs told of the feeds rewritten             (:mod:`.websub`)

An item that cannot be summarized is published without a summary (and tried
again next time); an entry that cannot be rendered is left out and named in
the log.  Neither stops the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from . import __version__
from .config import Config, SourceConfig
from .dedup.keys import without_tracking
from .errors import bug_details, bug_message
from .filters import EntryFields
from .models import Enclosure, Entry, SectionSummary, SourceRef, Summary
from .outputs import MERGED, OPML
from .redact import (
    feed_secrets,
    header_secrets,
    merged_secrets,
    public_link,
    public_text,
    redact_url,
)
from .request_headers import NO_HEADERS
from .store import StatesInOrder, Store, StoredItem
from .websub import RETRY_DELAY, Notices
from .workers import Workers

if TYPE_CHECKING:
    from .publish import PublishReport, Stamp
    from .publish.opml import OpmlSource
    from .summarize.job import SummaryJob

log = logging.getLogger(__name__)

# Changes whenever what is published from the same stored state changes
# (3: links without user info or their sources' credentials; 4: the text
# the sources wrote, titles and summaries, without their credentials too).
_PUBLISH_FORMAT = 4
# Store meta key of the published feeds' stamps (when their entries last changed).
_STAMPS = "feed_stamps"


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Publisher:
    """Publishes one store's latest items under one configuration, with the given workers."""

    def __init__(
        self,
        config: Config,
        store: Store,
        workers: Workers,
        *,
        clock: Callable[[], datetime] | None = None,
        notices: Notices | None = None,
    ):
        self.config = config
        self.store = store
        self._workers = workers
        self.notices = notices or Notices()  # the WebSub pings under way
        self._sources = {s.name: s for s in config.sources}
        # Dates a feed whose entries changed (see publish.Stamp); the module's
        # clock is looked up here, so that tests of whole passes can fix it.
        self.clock = clock or _utc_now
        self.hub_retry_delay = RETRY_DELAY  # seconds before a ping's retry; tests make it 0

    def summary_job(self, item: StoredItem) -> SummaryJob:
        from .summarize.job import SummaryJob

        source = self._sources.get(item.lead_source)
        return SummaryJob.of(
            item.content_html,
            item.language,
            self.config.summary,
            source.algorithm if source else None,
        )

    async def _summarize_jobs(
        self, jobs: Sequence[SummaryJob], generation: str | None
    ) -> tuple[int, str | None]:
        """Make and store the summaries the store lacks; how many, and the
        generation the files about to be written stand for: ``generation``
        (the store's when their items were read) counted once more for these
        summaries, unless another writer counted a change meanwhile too."""
        by_key = {job.key: job for job in jobs}
        known = self.store.summaries(list(by_key))
        missing = [job for key, job in by_key.items() if key not in known]
        if not missing:
            return 0, generation
        size = sum(len(job.html) for job in missing)
        results = await self._workers.map(
            _summarize_one, missing, heavy=self._workers.pooled(size), lost=_summary_lost
        )
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
            after = self.store.get_meta("generation")
        if generation is None or after != str(int(generation) + 1):
            return len(made), generation  # another change too: the next publish shows it
        return len(made), after

    async def publish_if_changed(self) -> tuple[int, PublishReport | None]:
        """Publish unless nothing that the output depends on changed since the last time.

        Returns how many summaries had to be made first (those of published
        items made under other settings) and the publish report, None when
        publishing was not needed.
        """
        self._forget_expired()
        # Read before the items: a change stored by another node while these
        # files are made must leave them out of date, for the next publish.
        generation = self.store.get_meta("generation")
        if (
            self.store.get_meta("published") == self._publish_state(generation)
            and self._outputs_exist()
        ):
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
        summarized, generation = await self._summarize_jobs(jobs, generation)
        report = self._publish(items, [job.key for job in jobs])
        with self.store.transaction():
            self.store.set_meta("published", self._publish_state(generation))
        if self.config.websub.hubs:
            self.notices.start(self._notify_hubs(report.written))
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

    async def _notify_hubs(self, written: Sequence[str]) -> None:
        """Tell each WebSub hub of the feeds just rewritten; never raises (see .websub)."""
        from .fetch.http import post_form
        from .publish.layout import public_url
        from .websub import PING_TIMEOUT, feed_files, notify_hubs

        hubs, feeds = self.config.websub.hubs, feed_files(written)
        if not hubs or not feeds:
            return
        urls = [public_url(self.config.base_url, name) for name in feeds]
        user_agent = self.config.fetch.user_agent

        async def post(url: str, fields: Sequence[tuple[str, str]]) -> str | None:
            return await post_form(url, fields, user_agent=user_agent, timeout=PING_TIMEOUT)

        try:
            await notify_hubs(hubs, urls, post=post, retry_delay=self.hub_retry_delay)
        except Exception as exc:  # a bug here must not undo a publish that worked
            log.error("%s", bug_message("telling the WebSub hubs", exc))
            log.debug("%s", bug_details(exc))

    def _forget_expired(self) -> None:
        """Delete the items past ``retention`` (none without it), before they are
        published; a deletion changes the generation, so the feeds follow."""
        if self.config.retention is None:
            return
        cutoff = self.clock() - timedelta(seconds=self.config.retention)
        deleted = self.store.delete_items_before(cutoff)
        if deleted:
            log.info("deleted %d items stored before %s (retention)", deleted, cutoff.isoformat())

    def _publish(self, items: Sequence[StoredItem], keys: Sequence[str]) -> PublishReport:
        """Render and write the given items (newest first), with their summaries by key."""
        from .models import FeedMeta
        from .publish import publish, write_if_changed
        from .summarize.digest import build_digests

        summaries = self.store.summaries(keys)
        keep_tracking = self.config.output.keep_tracking
        secrets = {item.uid: _source_secrets(item.sources, self._sources) for item in items}
        entries = [
            _entry(
                item,
                summaries.get(key),
                self._sources,
                secrets[item.uid],
                keep_tracking=keep_tracking,
            )
            for item, key in zip(items, keys, strict=True)
        ]
        digests = build_digests(
            entries,
            window=timedelta(seconds=self.config.digest.window),
            sentences=self.config.digest.sentences,
            page_url=self.config.base_url,
        )
        # The text is masked only now, as a summary is made from the stored
        # text: the credentials change what is shown, never which sentences
        # the summaries and digests choose.
        entries = [_public_text(entry, secrets[entry.id]) for entry in entries]
        digests = [_public_digest(digest, secrets) for digest in digests]
        # Newest first; a digest before the items of its window, as it sums them up.
        merged = sorted(
            [*entries, *digests], key=lambda e: (e.published, bool(e.digest), e.id), reverse=True
        )
        meta = FeedMeta(
            title=self.config.title,
            base_url=self.config.base_url,
            sections=self.config.sections,
            hubs=self.config.websub.hubs,
        )
        stamps = _load_stamps(self.store.get_meta(_STAMPS))
        report = publish(merged, meta, self.config.output.dir, stamps=stamps, now=self.clock())
        if report.stamps != stamps:
            with self.store.transaction():
                self.store.set_meta(_STAMPS, _dump_stamps(report.stamps))
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

    def _publish_state(self, generation: str | None) -> str:
        """Everything the published files depend on, as one hash: the store's
        ``generation``, the settings that shape the output, and this program's version."""
        config = self.config
        facts = {
            "generation": generation,
            "format": _PUBLISH_FORMAT,
            "version": __version__,
            "title": config.title,
            "base_url": config.base_url,
            "max_entries": config.output.max_entries,
            "keep_tracking": config.output.keep_tracking,
            "hubs": list(config.websub.hubs),
            "summary": [
                config.summary.sentences,
                config.summary.max_sentences,
                config.summary.words_per_sentence,
                config.summary.algorithm,
                config.summary.language,
            ],
            "digest": [config.digest.window, config.digest.sentences],
            # The location and the headers for the secrets they give: a new
            # token masked in the published text changes what is published.
            # A source without headers is listed as before they were, so that
            # upgrading republishes nothing.
            "sources": [
                [s.name, s.section, s.algorithm, s.location, s.filters.signature()]
                + ([list(header_secrets(s.headers))] if s.headers else [])
                for s in config.sources
            ],
        }
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()

    def _outputs_exist(self) -> bool:
        out = self.config.output.dir
        return all((out / output.name).is_file() for output in MERGED)


def _load_stamps(text: str | None) -> dict[str, Stamp]:
    """The stamps :func:`_dump_stamps` wrote; none when there are none or they do not read
    (the feeds are then dated now, once)."""
    from .publish import Stamp

    try:
        data = json.loads(text) if text else {}
        return {
            key: Stamp(fingerprint, datetime.fromisoformat(changed))
            for key, (fingerprint, changed) in data.items()
        }
    except (ValueError, TypeError, AttributeError):
        log.warning("the stored feed dates do not read; the feeds are dated now")
        return {}


def _dump_stamps(stamps: Mapping[str, Stamp]) -> str:
    data = {key: [s.fingerprint, s.changed.isoformat()] for key, s in sorted(stamps.items())}
    return json.dumps(data, separators=(",", ":"))


def _entry(
    item: StoredItem,
    summary: Summary | None,
    configured: Mapping[str, SourceConfig],
    secrets: Sequence[str],
    *,
    keep_tracking: bool = False,
) -> Entry:
    """The published entry of a stored item; its links without tracking
    parameters unless ``keep_tracking`` (see :func:`.dedup.keys.without_tracking`).
    A copy from a source no longer configured is not credited (its story is
    published because a configured source carries it too).

    Every link is in its public form (:func:`.redact.public_link`): without
    user info, and without ``secrets``, the credentials of the sources that
    carried the item (:func:`_source_secrets`).  So is each source's title,
    with its own.  That is done here, on the way out, and not when a feed is
    read, so that items stored as their feeds gave them, before this rule as
    after, are published so; the store keeps what the feed said.  The item's
    own text is masked later (:func:`_public_text`).
    """
    tracked = _same if keep_tracking else _untracked

    def public(url: str | None) -> str | None:
        url = tracked(url)
        return public_link(url, secrets) if url else url

    sources = tuple(ref for ref in item.sources if ref.name in configured) or item.sources
    sources = tuple(
        replace(
            source,
            title=public_text(source.title, copy_secrets(source.name, source.feed_url, configured)),
            site_link=public(source.site_link),
            feed_url=redact_url(source.feed_url) if source.feed_url else None,
            item_link=public(source.item_link),
        )
        for source in sources
    )
    # Two enclosures that differed only in their user info are one now.
    enclosures: dict[str, Enclosure] = {}
    for enclosure in item.enclosures:
        url = public_link(enclosure.url, secrets)
        enclosures.setdefault(url, replace(enclosure, url=url))
    return Entry(
        id=item.uid,
        title=item.title or "(untitled)",
        link=public(item.link),
        published=item.published,
        updated=max(item.updated, item.published),
        section=item.section,
        summary=summary or Summary(()),
        sources=sources,
        author=item.author,
        language=item.language,
        enclosures=tuple(enclosures.values()),
        image=public(item.image),
    )


def _public_text(entry: Entry, secrets: Sequence[str]) -> Entry:
    """``entry`` with the text its sources wrote (title, author, summary)
    without ``secrets``, the credentials of the sources that carried it
    (see :func:`.redact.public_text`).

    All of them, not only the shown copy's: the text an item shows may be
    any copy's (``dedup: lead: complete`` shows the most complete one), and
    the store keeps which only in its duplicate index.  Another source's
    credential in this text is as secret, and unrelated text is never
    searched: each entry only for its own sources' credentials.
    """
    if not secrets:
        return entry
    author = public_text(entry.author, secrets) if entry.author else entry.author
    sections = tuple(
        SectionSummary(
            heading=public_text(section.heading, secrets) if section.heading else section.heading,
            sentences=tuple(public_text(sentence, secrets) for sentence in section.sentences),
        )
        for section in entry.summary.sections
    )
    return replace(
        entry,
        title=public_text(entry.title, secrets),
        author=author,
        summary=Summary(sections),
    )


def _public_digest(digest: Entry, secrets: Mapping[str, Sequence[str]]) -> Entry:
    """A digest with each sentence it quotes masked with the credentials of its own
    item's sources (``secrets`` by entry id).  The names of the sources it
    credits were masked with their entries (:func:`_entry`); the rest is ours."""
    lines = tuple(
        replace(line, sentence=public_text(line.sentence, secrets.get(line.item_id, ())))
        for line in digest.digest
    )
    return replace(digest, digest=lines)


def _source_secrets(
    refs: Iterable[SourceRef], configured: Mapping[str, SourceConfig]
) -> tuple[str, ...]:
    """What to mask in the links and text of an item these sources carried:
    their feeds' passwords and secret query values, and their own headers'
    values (see :func:`.redact.feed_secrets`), in one order, so that the items of
    the same sources share one pattern."""
    return merged_secrets(*(copy_secrets(ref.name, ref.feed_url, configured) for ref in refs))


def copy_secrets(
    name: str, feed_url: str | None, configured: Mapping[str, SourceConfig]
) -> tuple[str, ...]:
    """The credentials of the source ``name`` that carried a copy: its stored
    feed URL's (which a removed source keeps), and the headers it is
    configured with (none once it is not).  What publishing masks in the
    copy, and ``aggregate duplicates`` too."""
    source = configured.get(name)
    return feed_secrets(feed_url or "", source.headers if source else NO_HEADERS)


def sources_opml(config: Config, store: Store) -> bytes:
    """The configured sources as OPML, at the addresses they now live at
    (their states read a chunk at a time: see :class:`.store.StatesInOrder`)."""
    from .publish.opml import render_opml

    return render_opml(_opml_sources(config, store), title=config.title)


def _opml_sources(config: Config, store: Store) -> Iterator[OpmlSource]:
    from .publish.opml import OpmlSource

    states = StatesInOrder(store, [source.name for source in config.sources])
    for source in config.sources:
        state = states.get(source.name)
        site_link = state.site_link if state else None
        yield OpmlSource(
            name=source.name,
            section=source.section,
            xml_url=(state.url if state else None) or source.url,
            # The site link is the feed's own: it may repeat the source's
            # token anywhere (a path of it), as the feed's entries' links may.
            html_url=public_link(site_link, feed_secrets(source.url or "", source.headers))
            if site_link
            else None,
        )


def _same(url: str | None) -> str | None:
    return url


def _untracked(url: str | None) -> str | None:
    return without_tracking(url) if url else url


def _summary_lost(job: SummaryJob, why: str) -> tuple[str, str]:
    """What :func:`_summarize_one` says when the process summarizing ended
    under it or ran too long, twice."""
    return f"the process summarizing it {why}", ""


def _summarize_one(job: SummaryJob) -> Summary | tuple[str, str]:
    """The summary, or a bug's message and traceback: one item's, not the pass's."""
    try:
        return job.run()
    except Exception as exc:
        return bug_message("summarizing", exc), bug_details(exc)
