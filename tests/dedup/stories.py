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


# The copy the issue reproduced by hand: its first sentence reworded
# ("European Union" -> "EU", "early on" -> "early") under a new headline.
ENERGY_TITLE = "European Union agrees gas price cap after marathon talks in Brussels"
ENERGY_PARAGRAPHS = (
    "European Union energy ministers agreed early on Wednesday to cap the wholesale price of "
    "natural gas for a year, ending months of wrangling over how to shield households and "
    "industry from the swings that followed last winter's supply crunch.",
    "The cap will apply when prices on the main Dutch trading hub stay above 180 euros per "
    "megawatt hour for three days and are at least 35 euros above a global average for "
    "liquefied natural gas. Germany and the Netherlands, which had warned that a cap could "
    "drive cargoes to Asia, backed the deal after a safeguard was added.",
    "Under the safeguard, the mechanism can be suspended at short notice if it threatens "
    "the security of supply or leads to a sharp rise in gas consumption. The commission will "
    "report on its effects on financial markets by the spring.",
    "Traders said the level was high enough that the cap might never be triggered, but "
    "several governments said its existence alone would calm a market that has swung wildly "
    "since the autumn. Industry groups welcomed the decision and urged ministers to move "
    "just as quickly on long-term contracts.",
)
ENERGY_TEXT = " ".join(ENERGY_PARAGRAPHS)
ENERGY_COPY_TITLE = "Brussels deal: ministers back year-long limit on wholesale gas prices"
ENERGY_COPY_TEXT = ENERGY_TEXT.replace(
    "European Union energy ministers agreed early on Wednesday to cap the wholesale price of "
    "natural gas for a year, ending months of wrangling over how to shield",
    "EU energy ministers agreed early Wednesday to limit the wholesale price of "
    "natural gas for a year, ending months of haggling over how to protect",
)
# A follow-up two days on: new headline, new lead, the first story kept
# whole below it as background.  Another story, though its text holds all of
# the first one's.
ENERGY_FOLLOW_UP_TITLE = "Gas traders test EU price cap as Dutch hub prices climb for a third day"
ENERGY_FOLLOW_UP_TEXT = " ".join(
    (
        "Gas prices on the Dutch hub rose for a third straight day on Friday, bringing the "
        "European Union's new price cap within reach barely two days after ministers agreed "
        "it, as a cold spell across northern Europe lifted demand for heating. Traders said "
        "several utilities had bought forward contracts to lock in supplies before the "
        "mechanism could be triggered.",
        *ENERGY_PARAGRAPHS,
    )
)
