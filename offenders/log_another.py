""" "Save and log another": back to the caseload, the next person's "Log contact" focused.

A key worker logging the week's contacts works down their caseload (issue 13.1). The
caseload's "Log contact" links carry the row they were on and the caseload's own options
(sort, filters); the contact form posts to its own address, so it has them too, and after
"Save and log another" the home page is shown in the same order with the next person's
link focused.

The compliance page's below-target list works the same way (issue 13.9): its links add
`from=compliance`, and "Save and log another" goes back to that page instead of the home
page, with the next person below target focused.

The next person is the one who followed this person in the list they were looking at.
Logging a contact can move this person in a list sorted by need; the others keep their
order among themselves, so the next person is the one now at this person's old row once
this person is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlencode

from django.urls import reverse

# Query-string names, on the contact form's address and the home page's.
ROW = "row"
AFTER = "after"
FROM = "from"
OWN_NAMES = frozenset({ROW, AFTER, FROM})
# The lists other than the caseload that "Save and log another" may go back to.
LISTS = {"compliance": "offenders:compliance"}
# A caseload is tens of people, a whole scheme about a hundred (003 §4.3).
MAX_ROW = 10_000


class Row(Protocol):
    # Read-only, so a frozen row (offenders.compliance.BelowTarget) is one too.
    @property
    def offender(self) -> Any: ...

    @property
    def can_log_contact(self) -> bool: ...


def _row(params: Mapping[str, Any]) -> int | None:
    text = str(params.get(ROW, "") or "").strip()
    if text.isdigit() and int(text) <= MAX_ROW:
        return int(text)
    return None


def caseload_options(params: Any) -> list[tuple[str, str]]:
    """The caseload's own options in a query string (sort, filters), without ours."""
    items = params.lists() if hasattr(params, "lists") else params.items()
    options: list[tuple[str, str]] = []
    for name, values in items:
        if name in OWN_NAMES:
            continue
        for value in values if isinstance(values, list | tuple) else [values]:
            options.append((str(name), str(value)))
    return options


def log_contact_query(params: Any) -> str:
    """What a caseload's "Log contact" link adds after `?row=N&`: the caseload's options."""
    return urlencode(caseload_options(params))


def log_another_url(params: Any, offender_id: int) -> str:
    """The home page (or the list named by `from`) after a contact for `offender_id`,
    from the contact form's query."""
    query: list[tuple[str, str]] = [*caseload_options(params), (AFTER, str(offender_id))]
    row = _row(params)
    if row is not None:
        query.append((ROW, str(row)))
    page = LISTS.get(str(params.get(FROM, "") or ""), "home")
    return f"{reverse(page)}?{urlencode(query)}"


def next_to_log(rows: Sequence[Row], params: Mapping[str, Any]) -> int | None:
    """The person whose "Log contact" link the home page focuses, or None.

    None unless the page was reached by "Save and log another" (`after`); then the
    first person from this person's old row on (or, without it, their row now), this
    person left out, whose contact the reader may log. None after the last person.
    """
    after_text = str(params.get(AFTER, "") or "").strip()
    if not after_text.isdigit():
        return None
    after = int(after_text)
    others = [row for row in rows if row.offender.pk != after]
    start = _row(params)
    if start is None:
        now_at = [i for i, row in enumerate(rows) if row.offender.pk == after]
        if not now_at:
            return None
        start = now_at[0]
    for row in others[start:]:
        if row.can_log_contact:
            return int(row.offender.pk)
    return None
