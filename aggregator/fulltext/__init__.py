"""Full text for truncated feeds: each item's page fetched, its article summarized.

A source with ``full_text: true`` (or ``auto``, for items whose text is
shorter than ``full_text_min_words``) has the page of each new or changed
item fetched after its poll is stored, through the feeds' HTTP client (its
size and time caps, address guard and bounded redirects), its main content
extracted (:mod:`.extract`, trafilatura, or the elements the source's
``full_text_selector`` picks: :mod:`aggregator.article_selector`) and stored per copy; the item is
then summarized from that article, headings and all, instead of the teaser.

    decide.py   which copies need their page (pure)
    extract.py  page bytes -> sanitized article HTML (the one module importing trafilatura)
    stage.py    fetch, extract (in the workers), store
"""
