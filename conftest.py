import pytest


@pytest.fixture(autouse=True)
def _media_and_axes(settings):
    # Lockout is tested on purpose in its own test; elsewhere it would only add noise.
    settings.AXES_ENABLED = False
    yield
