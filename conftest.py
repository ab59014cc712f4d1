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
