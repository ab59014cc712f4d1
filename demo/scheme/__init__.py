"""A deterministic, entirely synthetic demo scheme: `manage.py seed_demo [--seed N]`.

Shaped like the Stockton scheme of 001 §5.4–5.5: 41 current PPOs, of whom 9 are in the
community on a community order or licence, 8 in the community with no statutory supervision,
23 in custody serving sentences and 1 remanded; 7 of the 41 hold CRASBOs. Around them: 10
former PPOs, 5 of whom stepped down to the IOM tier and are on it today (003 §4.6), 6 Deter
Young Offenders, referrals to the partner agencies, and a pool of about 1,500 other known
offenders whose offending follows 000 §1.1 ("approximately 10% of the active offender
population are responsible for 50% of all crime").

Who is on which tier comes only from recorded panel decisions (`selection.panel`), as on a
live scheme: monthly selection panels chaired by the demo PPO manager over the last five
years, the most recent about five weeks ago, select, step down, step up, de-select (with
003 §6.2's reasons) and exit people on Wednesdays; the YOT worker's DYO panels mark the Deter
Young Offenders. The default selection matrix (selection migration 0002) scores one past
selection run, a week before the most recent panel; that panel selects two people the run
ranks within capacity, defers one, and departs from the ranking once, with its reason, to
step a PPO down to IOM. Every earlier selection departs from a ranking that did not exist,
and says so. Risk assessments (OASys by probation, OGRS for some of the pool) precede each
selection and each step down or de-selection; one PPO serving a long sentence has a current
one (003 §6.2(3)).

Every kind of review (selection.reviews) falls due on the day it is seeded, and seeding ends
by running the sweep for today as the command, so the manager's home page and
/selection/reviews/ show them: besides those that fall due by themselves (quiet PPOs, two
years on the scheme, DYOs near 18 and on the tier for 3 months, high-harm offences for
MAPPA, the quarter's list review), one PPO in custody is expected out over 26 months from
now and another has no expected release date (003 §6.2(3)); the former PPO de-selected for
a long sentence is due out within three months; the one de-selected at a two-year review was
arrested last week (003 §5.7); and one of the pool arrived 12 days ago from another area's
scheme, recorded with `transfer_in_record` (003 §6.2(2)).

Around the PPOs, their casework across the eight pathways (demo/scheme/casework.py, issue
9): a directory of providers (one with "4 dwellings reserved for DIP/PPO clients", 001
§3.2d; every pathway served but Victims of Crime, whose Restorative Justice Project has
closed), the referrals above made to them (on every pathway, some closed with an outcome),
needs on most pathways with their history, set by probation and the partners, actions
owned by several agencies (some done, not achieved or overdue), two case conferences
about four and one months ago, recorded and closed so their plans are frozen, core-group
meetings between them, and one arranged for next week. Those last reviewed at the first,
and a few new PPOs never conferenced, are due a conference today (conferences.due).

And the premium service (demo/scheme/premium.py, issue 10): levels of their own for two
PPOs set by their key workers between conferences (five a week for a red-graded one who
misses appointments, three for a quiet one), besides those the conferences set; an
enforcement case for every failure to attend on a licence or an order, opened by
`enforcement_open` as `contact_log` would, with warnings, breaches on time and late,
outcomes, and exactly one overdue today; treatment referrals assessed and first seen on
and off the standards; exactly two PPOs due out within six weeks, one with a complete
release plan and one incomplete (the prison puts others' release dates back, which alerts
their key worker and police); and two reception needs assessments, one on time, one late.

Every person, name, address and number is invented (Faker en_GB; its phone numbers are Ofcom's
drama ranges). The same seed gives the same people and history: one `random.Random` and one
Faker instance, both seeded, are consumed in a fixed order, and every date is an offset from
today (panel days are 28 days apart, moved together to a Wednesday).

Running it again is a no-op: agencies, logins and the scheme are found by name; demo people by
their local reference (DEMO-<seed>-<n>), and a person who already exists keeps their records;
the selection history and the casework are written only for people created in the same
run, and providers are found by name. People and their records (offending, custody,
contacts, drug tests) are bulk-inserted, which is nobody consulting or altering a record, so
they write no audit rows. The selection history goes through selection's services, and the
referrals, needs, actions and conferences through the pathways and conferences services,
which audit what they write: those rows name the demo login that recorded it (the manager,
YOT worker, a key worker or a partner), the "command" channel and "seed_demo --seed N"
(the sweep's rows name the review sweep and the "command" channel), so the audit log shows
truthfully who recorded what. Past records are written on their own day (`as_of`).
"""

from __future__ import annotations

from .plan import build_plan, demo_password, top_decile_share
from .specs import (
    AGENCIES,
    DEMO_EMAIL_DOMAIN,
    KEY_WORKERS,
    LOGINS,
    PROVIDERS,
    SCHEME_NAME,
    DemoLogin,
    DemoResult,
    DemoSeedError,
)
from .write import describe, seed_demo

__all__ = [
    "AGENCIES",
    "DEMO_EMAIL_DOMAIN",
    "KEY_WORKERS",
    "LOGINS",
    "PROVIDERS",
    "SCHEME_NAME",
    "DemoLogin",
    "DemoResult",
    "DemoSeedError",
    "build_plan",
    "demo_password",
    "describe",
    "seed_demo",
    "top_decile_share",
]
