"""`manage.py seed_demo [--seed N] [--force]`: the synthetic demo scheme (demo/scheme/)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from demo import scheme as demo


def database_vendor() -> str:
    return connection.vendor


class Command(BaseCommand):
    help = (
        "Create a deterministic, entirely synthetic PPO scheme to demonstrate and test with: "
        "agencies, one login per role, 41 PPOs, former PPOs (some on the IOM tier), DYOs, "
        "a pool of known offenders, and the panels, risk assessments and selection run that "
        "put them where they are; providers, referrals on every pathway, needs and actions, "
        "two past case conferences with frozen plans and one next week; contact levels, "
        "enforcement cases (one overdue), treatment clocks, release plans and reception "
        "assessments (the premium service); then sweep today's "
        "reviews (every kind falls due). Running it again the same day changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=1, help="The same seed makes the same people (default 1)."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though DEBUG is off and the database is not SQLite.",
        )

    def handle(self, *args: Any, seed: int, force: bool, **options: Any) -> None:
        vendor = database_vendor()
        # Invented people must never be mixed into a live database by accident.
        if not settings.DEBUG and vendor != "sqlite" and not force:
            raise CommandError(
                f"Refusing to seed demo people: DEBUG is off and the database is {vendor}, "
                "so this may be a live system. Pass --force if it really is a demo or test "
                "database."
            )
        try:
            demo.seed_demo(seed, stdout=self.stdout)
        except demo.DemoSeedError as error:
            raise CommandError(str(error)) from error
