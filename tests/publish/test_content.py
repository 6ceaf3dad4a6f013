from __future__ import annotations

import dataclasses

import pytest

from aggregator.models import SectionSummary, SourceRef, Summary
from aggregator.publish.content import MAX_SUMMARY_CHARS, entry_content_html, safe_href
from tests.publish.sample import ESCAPING, LOCAL, MERGED


def test_lead_section_has_no_heading_and_headed_sections_do() -> None:
    html = entry_content_html(MERGED)
    assert html.startswith("<p>The harbour bridge reopened on Thursday. Traffic resumed.</p>\n")
    assert "<h3>Background</h3>\n<p>Repairs took eight months.</p>" in html


def test_section_without_sentences_is_left_out() -> None:
    assert "Nothing here" not in entry_content_html(MERGED)


def test_other_sources_then_link_to_original() -> None:
    lines = entry_content_html(MERGED).splitlines()
    assert lines[-2] == (
        '<p>Also reported by: <a href="https://wire.example.net/story/991">Other Wire</a></p>'
    )
    assert lines[-1] == (
        '<p><a href="https://example.com/2024/05/harbour-bridge">'
        "Read the original at Example News</a></p>"
    )


def test_everything_is_escaped() -> None:
    html = entry_content_html(ESCAPING)
    assert "<h3>Ergebnisse &lt;vorläufig&gt; &amp; &quot;ungeprüft&quot;</h3>" in html
    assert "a &lt; b &amp;&amp; c &gt; d." in html
    assert 'href="https://lab.example/post?id=7&amp;lang=de"' in html
    assert "Lab&#x27;s &quot;Notes&quot; &amp; more" in html
    assert "<vorläufig>" not in html


def test_single_source_without_link_has_no_source_lines() -> None:
    assert entry_content_html(LOCAL) == "<p>The council approved the budget.</p>"


def test_source_without_item_link_is_named_without_anchor() -> None:
    unlinked = SourceRef("x", "X & Y", None, None, None)
    entry = dataclasses.replace(MERGED, sources=(MERGED.sources[0], unlinked))
    assert "<p>Also reported by: X &amp; Y</p>" in entry_content_html(entry)


def test_unsafe_link_is_not_made_clickable() -> None:
    entry = dataclasses.replace(MERGED, link="javascript:alert(1)", sources=MERGED.sources[:1])
    assert "javascript" not in entry_content_html(entry)
    assert safe_href("JavaScript:alert(1)") is None
    assert safe_href("HTTPS://example.com/") == "HTTPS://example.com/"
    assert safe_href("http://[::1") is None


def test_heading_level() -> None:
    assert "<h4>Background</h4>" in entry_content_html(MERGED, heading_level=4)
    with pytest.raises(ValueError):
        entry_content_html(MERGED, heading_level=7)


def test_empty_summary_without_sources_or_link_is_empty() -> None:
    entry = dataclasses.replace(LOCAL, summary=Summary((SectionSummary("H", ()),)), sources=())
    assert entry_content_html(entry) == ""


def test_local_article_credits_the_original_by_its_host() -> None:
    local_source = SourceRef("Seed", "Seed", None, None, "https://www.euromaidanpress.com/")
    entry = dataclasses.replace(
        LOCAL, link="https://www.euromaidanpress.com/", sources=(local_source,)
    )
    html = entry_content_html(entry)
    assert "Read the original at euromaidanpress.com</a>" in html


def test_a_summary_is_cut_to_its_bound() -> None:
    # One endless sentence (a source without punctuation), then more sections.
    endless = "word " * MAX_SUMMARY_CHARS
    more = [SectionSummary(f"Part {n}", ("More text.",)) for n in range(100)]
    sections = (SectionSummary(None, (endless, "Never shown.")), *more)
    entry = dataclasses.replace(MERGED, summary=Summary(sections))
    html = entry_content_html(entry)
    assert "Never shown." not in html and "Part 1" not in html
    assert html.startswith("<p>word word")
    assert "\u2026</p>" in html
    assert len(html) < MAX_SUMMARY_CHARS + 1000  # the sources and the link after it
    assert html.endswith("Read the original at Example News</a></p>")


def test_a_summary_within_its_bound_is_whole() -> None:
    sentences = ("x" * (MAX_SUMMARY_CHARS // 2 - 1), "y" * (MAX_SUMMARY_CHARS // 2 - 1))
    entry = dataclasses.replace(MERGED, summary=Summary((SectionSummary(None, sentences),)))
    assert " ".join(sentences) in entry_content_html(entry)
