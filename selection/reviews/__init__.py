"""Reviews that fall due by themselves (issue 8; DESIGN.md rules 1-7, 003 §5.7, §6.2, §7.5).

`sweep(as_of=...)` works out, for one day, every review that is due and raises each one
that has not been raised before. The daily Celery task, `manage.py run_reviews
[--as-of YYYY-MM-DD]` and the demo all call it. A review closes through a panel decision
(`selection.panel.panel_decide`), a recorded "no change, reviewed" with a reason
(`review_close`), or, for the kinds listed under "Resolved", by the sweep once the fact
that raised it no longer holds.

Which day counts (tested on both sides in selection/tests/test_reviews.py). "Months" are
calendar months (`access.policy.months_before`, clamped to the month's last day):

* **No arrest or intelligence, 6 months at liberty** (`NO_ARREST`, 003 §6.2(1), §3.9): PPOs
  on the tier today. The clock starts after the later of the last arrest or intelligence
  report (its `occurred_on`) and the day before the current PPO episode began; a day counts
  if the person was not in custody that day (remand or sentence, `started_on` <= day <
  `released_on`). Due when the days at liberty reach `ceil(months × 365 / 12)`: with 6
  months, **183 days at liberty is due, 182 is not** (arrested on 1 January, no custody:
  due on 3 July). Charges, convictions, breaches, recalls and positive drug tests in the
  quiet period do not stop the clock (the guidance names arrests and intelligence) but are
  listed in `detail` as signs of continued offending for the panel.
* **Likely in custody more than 2 years from now** (`LONG_CUSTODY`, §6.2(3)): a PPO in an
  open sentence whose *expected release date* is after `as_of` + `long_sentence_months`:
  release on the day 24 months ahead is not due, the day after is. The sentence length is
  not used (a 3-year sentence released at half-way is 18 months). `detail` says whether a
  risk assessment from the last 12 months exists (the panel refuses the de-selection
  without one, selection.panel). A PPO serving a sentence longer than
  `long_sentence_months` with no expected release date recorded gets a chase instead.
* **Re-selection before release** (`RESELECTION_RELEASE`, §6.2(3)): a PPO episode closed
  for long custody, with no tier since. Due `reselection_lead_months` before the expected
  release date of the custody open on the de-selection day (release 1 October: due 1 July,
  not 30 June), or on the release day if the person is released earlier. With neither an
  expected nor an actual release date: **a chase** (`RELEASE_DATE_CHASE`, 002 on §6.2(3),
  dates "may not be readily available"), due on the de-selection day.
* **Two years on the scheme** (`TWO_YEARS`, §6.2(5)): the current PPO episode is
  `programme_review_months` old: selected 1 March 2024, due 1 March 2026, not 28 February;
  again every further 24 months (4 years, 6 years) while it stays open.
* **Former PPO or IOM arrested or charged** (`FORMER_REOFFENDING`, 003 §5.7): someone on
  the IOM tier today, or on no tier whose last PPO or IOM episode has ended, with an arrest
  or charge on or after the day they left the PPO tier (the step-down day, or the first day
  off): an arrest on the day they left is due, the day before is not (they were a PPO).
  One open review per person at a time, for the latest such event; after one is closed,
  only an event after the closing day raises another.
* **DYO turning 18** (`DYO_TURNING_18`, §7.5): an open DYO episode; due
  `dyo_exit_lead_months` (default 3) before the 18th birthday, so the exit strategy and its
  lead agency are agreed by then: 18 on 15 June, due 15 March, not 14 March.
* **DYO periodic review** (`DYO_PERIODIC`, 004 §5.1): every `dyo_review_months` (default 3)
  from the DYO episode's start: marked 10 January, due 10 April, not 9 April.
* **The list against the pool** (`LIST_REVIEW`, §6.2(4), 003 §4.2): no person. Once per
  period of `list_review_interval_months` counted in calendar blocks from January (3: the
  quarters), due on the period's first day (1 April opens the second quarter; 31 March is
  still the first). And before each NI30 cohort year (1 April, 003 §4.2, Annex A): due on
  1 March before it (the 28th or 29th of February is not).
* **MAPPA referral** (`MAPPA_REFERRAL`, §6.2(6)): someone on a tier today with no MAPPA
  level recorded who, since the current episode began (on or after `selected_on`), was
  arrested, charged, convicted or cautioned for an offence whose category's harm weight is
  at least `Scheme.mappa_harm_weight` (default 10: robbery, violence with injury, HARM.md),
  or was assessed as a high or very high risk of serious harm. One open flag per person,
  as for former PPOs.
* **Transferred in** (`TRANSFER_IN`, §6.2(2)): nothing recorded an arrival, so
  `TransferIn` does: the PPO manager records it on its page (`transfer_in_record`:
  sending scheme, area, day of arrival), which raises the review at once when it is due
  (the same rule, the same basis, so the sweep finds it raised); corrected with
  `transfer_in_correct`. Due on the day of arrival (not the day before), unless the person
  has been selected as a PPO on or after it.

Resolved by the sweep (outcome "resolved", the reason recorded): a chase once an expected
release date is recorded or the person is released; a long-custody review once the person
is released from that custody; a no-arrest review once an arrest or intelligence report
dated in its quiet period (or later) is recorded. Every other kind waits for a person.

The rules are set-based: a fixed number of queries whatever the size of the scheme. A sweep
that finds nothing new runs about 20 statements (the scheme's start and settings, 14 reads
for the rules, the keys already raised, 3 for resolving, its savepoint); raising adds one
insert per 1,000 reviews, one read-back, one insert of their audit rows (one row per
review), one audit row per resolved review, and
two reads per `DETAIL_BATCH` (2,000) new no-arrest reviews for their signs of continued
offending.
"""

from __future__ import annotations

from .rules import INTELLIGENCE_DETAIL_KEYS
from .services import close_for_decision, review_close, transfer_in_correct, transfer_in_record
from .sweeper import SweepResult, scheme_started_on, sweep

__all__ = [
    "INTELLIGENCE_DETAIL_KEYS",
    "SweepResult",
    "close_for_decision",
    "review_close",
    "scheme_started_on",
    "sweep",
    "transfer_in_correct",
    "transfer_in_record",
]
