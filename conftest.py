import uuid

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def _media_and_axes(settings):
    # Lockout is tested on purpose in its own test; elsewhere it would only add noise.
    settings.AXES_ENABLED = False
    yield


class FormPageClient(Client):
    """A test client that posts a form as its page would: with the one-time token the page
    carries (access.submissions), a fresh one for each post unless the test gives one.

    Tests of repeated submissions pass the same `form_token` twice; tests of a missing
    token use `Client` itself.
    """

    def post(self, path, data=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(data, dict) and "form_token" not in data:
            data = {**data, "form_token": str(uuid.uuid4())}
        return super().post(path, data, *args, **kwargs)


@pytest.fixture
def client() -> Client:
    return FormPageClient()


def _used_the_database(item: pytest.Item) -> bool:
    """Whether the test had pytest-django set up the test database (any django_db test,
    transactional or not, and Django's own test case classes)."""
    from django.test import SimpleTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, SimpleTestCase):
        return bool(getattr(cls, "databases", None))
    # The marker's tests get the database from pytest-django's autouse fixture, which asks
    # for it at run time, so it is not among their fixture names.
    if item.get_closest_marker("django_db") is not None:
        return True
    names = getattr(item, "fixturenames", ())
    return any(name in names for name in ("django_db_setup", "db", "transactional_db"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    """After each database test, the data migrations' reference rows back if they are gone.

    Tests outside a rolled-back transaction (transactional_db, live-server journeys,
    migrations) leave every table empty. Django's own runner puts them last; pytest-django
    does too, but pytest-xdist hands each worker whole files in turn, so a file of ordinary
    tests can follow one that emptied the database in the same worker. Checking after
    every database test (four indexed EXISTS queries) rather than guessing which tests
    flush keeps it right whatever emptied them. The rows are committed, as after `migrate`.
    """
    yield
    # After the last test pytest-django has destroyed the test database and pointed the
    # connection back at the configured one, which must never be written to.
    if nextitem is None or not _used_the_database(item):
        return
    from pytest_django.plugin import blocking_manager_key

    from tests.factories import ensure_reference_data

    with item.config.stash[blocking_manager_key].unblock():
        ensure_reference_data()


@pytest.fixture(autouse=True)
def _reference_rows_present(request: pytest.FixtureRequest) -> None:
    """Each database test starts with the data migrations' reference rows, whatever ran
    before it in this process (the teardown hook above puts them back as a rule; this is
    the check that holds even where a test emptied them some other way). Runs after
    pytest-django's own autouse fixture has opened the test's database, inside the test's
    transaction where it has one."""
    names = request.fixturenames
    if request.node.get_closest_marker("django_db") is None:
        # A test that asks for the database by fixture gets it here first, as it would
        # anyway; tests that do not ask (Django's own test case classes included, which
        # open it themselves) are left alone.
        if "transactional_db" in names:
            request.getfixturevalue("transactional_db")
        elif "db" in names:
            request.getfixturevalue("db")
        else:
            return
    from tests.factories import ensure_reference_data

    ensure_reference_data()
