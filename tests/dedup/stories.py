"""Hand-written stories for the near-duplicate tests: one story and its copies,
and the items that must stay apart from it."""

from __future__ import annotations

TITLE = "Port authority approves expansion of container terminal in Rotterdam"
PARAGRAPHS = (
    "The port authority in Rotterdam on Tuesday approved a long-debated expansion of its "
    "largest container terminal, clearing the way for construction to begin next spring. "
    "The plan adds four berths and a rail link to the hinterland.",
    "Officials said the project would cost about 900 million euros and create some 1,200 "
    "jobs during construction. Environmental groups had challenged the plan in court, "
    "arguing that dredging would harm the estuary.",
    "A spokesperson for the shipping companies welcomed the decision, saying congestion at "
    "the existing quays had delayed deliveries across northern Europe for most of the year.",
    "The city council still has to approve changes to the zoning plan, a vote expected in "
    "the autumn. Opposition parties have promised to push for stricter noise limits for "
    "residents living near the new rail link.",
)
TEXT = " ".join(PARAGRAPHS)

# Copies another outlet would publish.
RETITLED = "Rotterdam port gets green light to expand container terminal"
TRIMMED = " ".join(PARAGRAPHS[:2])
EXTENDED = (
    TEXT + " Analysts at a Dutch bank said the expansion would help the port win back traffic lost "
    "to Antwerp and Hamburg over the past decade. Shipping lines are expected to sign "
    "long-term contracts for the new berths before the end of the year."
)
WITH_BOILERPLATE = (
    "This story was originally published by Harbour Wire. "
    + TEXT
    + " Copyright 2024 Harbour Wire. All rights reserved. Sign up for our newsletter."
)
TEASER = (
    "The port authority in Rotterdam on Tuesday approved a long-debated expansion of its "
    "largest container terminal, clearing the way for construction to begin next spring."
)

# Different stories.
SAME_SUBJECT_TITLE = "Rotterdam port strike halts container traffic for a second day"
SAME_SUBJECT_TEXT = (
    "Dock workers at the port of Rotterdam walked out for a second day on Tuesday, halting "
    "container traffic at the largest terminals as talks over pay and automation stalled. "
    "The union said the strike would continue until the port operators returned to the table. "
    "Shipping companies diverted several vessels to Antwerp, and the port authority warned of "
    "delays for importers across northern Europe."
)
UPDATE_TITLE = "Court suspends Rotterdam terminal expansion after environmental appeal"
UPDATE_TEXT = (
    "A Dutch court on Thursday suspended the expansion of Rotterdam's largest container "
    "terminal, two days after the port authority approved it, ruling that the environmental "
    "assessment of the dredging had been incomplete. The judges ordered a new review that "
    "could take a year. " + " ".join(PARAGRAPHS[1:3])
)


def briefing(weekday: str, day: int, headlines: tuple[str, ...]) -> tuple[str, str]:
    """A daily briefing of one outlet: the same template every day."""
    title = f"Daily briefing for {weekday}"
    text = (
        f"Good morning. It is {weekday}, June {day}, and here is what you need to know today. "
        + " ".join(headlines)
        + " That is all for this morning. Our next briefing arrives tomorrow at six. You are "
        "receiving this briefing because you subscribed to our updates."
    )
    return title, text


MONDAY = briefing(
    "Monday",
    3,
    (
        "Markets open higher after a quiet weekend in Asia.",
        "The city council meets to discuss the new tram line.",
        "Rain is expected in the afternoon across the region.",
    ),
)
TUESDAY = briefing(
    "Tuesday",
    4,
    (
        "Markets open higher after gains in Asia.",
        "The city council meets to discuss the tram line budget.",
        "Rain is expected in the evening across the region.",
    ),
)
