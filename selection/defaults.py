"""The matrix that ships with the app: version 1, adopted, for a scheme to copy and adjust.

003 §6.1: selection criteria are developed and agreed locally; these are a starting point
weighted toward acquisitive and damaging crime (HARM.md), with the priority 003 §4.5 gives
to release from a short sentence without statutory supervision.
"""

from __future__ import annotations

from decimal import Decimal

# (kind, event kind, offence category name, weight)
DEFAULT_CRITERIA: list[tuple[str, str, str, Decimal]] = [
    ("events", "arrest", "", Decimal("2")),
    ("events", "charge", "", Decimal("3")),
    ("events", "conviction", "", Decimal("4")),
    ("events", "caution", "", Decimal("1")),
    ("events", "breach", "", Decimal("2")),
    ("events", "recall", "", Decimal("3")),
    ("events", "intelligence", "", Decimal("1")),
    ("recent", "", "", Decimal("5")),
    ("harm", "", "", Decimal("1")),
    ("priority_crime", "", "Burglary – residential", Decimal("2")),
    ("community_impact", "", "", Decimal("5")),
    ("drug_misuse", "", "", Decimal("5")),
    ("positive_tests", "", "", Decimal("1")),
    ("likelihood", "", "", Decimal("1")),
    # 003 §4.5: "particular priority to those being released from custody who were
    # sentenced to less than 12 months ... not subject to statutory probation supervision".
    ("short_sentence", "", "", Decimal("10")),
]
DEFAULT_THRESHOLD = Decimal("10")
