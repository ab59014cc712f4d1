"""A deterministic, entirely synthetic demo scheme: `manage.py seed_demo [--seed N]`.

Shaped like the Stockton scheme of 001 §5.4–5.5: 41 current PPOs, of whom 9 are in the
community on a community order or licence, 8 in the community with no statutory supervision,
23 in custody serving sentences and 1 remanded; 7 of the 41 hold CRASBOs. Around them: former
PPOs, Deter Young Offenders, referrals to the partner agencies, and a pool of about 1,500 other
known offenders whose offending follows 000 §1.1 ("approximately 10% of the active offender
population are responsible for 50% of all crime").

Every person, name, address and number is invented (Faker en_GB; its phone numbers are Ofcom's
drama ranges). The same seed gives the same people: one `random.Random` and one Faker instance,
both seeded, are consumed in a fixed order, and every date is an offset from today.

Running it again is a no-op: agencies, logins and the scheme are found by name; demo people by
their local reference (DEMO-<seed>-<n>), and a person who already exists keeps their records.
Seeding is not anyone consulting a record, so nothing here writes to the audit trail.
"""

from __future__ import annotations

from .plan import build_plan, demo_password, top_decile_share
from .specs import (
    AGENCIES,
    DEMO_EMAIL_DOMAIN,
    KEY_WORKERS,
    LOGINS,
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
