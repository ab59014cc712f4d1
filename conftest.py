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


def _empties_the_database(item: pytest.Item) -> bool:
    """Whether a test runs outside a rolled-back transaction, so that pytest-django
    empties every table after it (transactional_db, live_server journeys, migrations)."""
    from django.test import TestCase, TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return not issubclass(cls, TestCase)
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)):
        return True
    names = getattr(item, "fixturenames", ())
    return "transactional_db" in names or "django_db_reset_sequences" in names


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    """After a test that emptied the tables, load the data migrations' reference rows again.

    Django's own runner puts such tests last; pytest-django does too, but pytest-xdist
    hands each worker whole files in turn, so a file of ordinary tests can follow one that
    emptied the database in the same worker. The rows are committed, as after `migrate`.
    """
    yield
    if nextitem is None or not _empties_the_database(item):
        return
    from pytest_django.plugin import blocking_manager_key

    from tests.factories import ensure_reference_data

    with item.config.stash[blocking_manager_key].unblock():
        ensure_reference_data()
