"""A connection follows its user's stream only while Django's auth would log that user in
with the connection's session."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client

from sockpuppet import streams, tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user("ann", password="old-password")


def logged_in(user) -> SessionBase:
    client = Client()
    client.force_login(user)
    session = client.session
    session[tokens.SESSION_KEY] = "secret"
    return session


def test_a_logged_in_session_follows_its_user_and_itself(user):
    session = logged_in(user)
    assert streams.of_session(session) == [streams.for_session(session), f"u.{user.pk}"]


def test_a_session_from_before_a_password_change_no_longer_follows_its_user(user):
    """Regression (security audit). Bug: a session Django had logged out by a password
    change (its auth hash no longer matches) still opened connections that followed the
    user's stream, for as long as the session row lived (two weeks by default)."""
    session = logged_in(user)
    user.set_password("new-password")
    user.save()
    assert streams.of_session(session) == [streams.for_session(session)]


def test_a_deactivated_user_is_no_longer_followed(user):
    session = logged_in(user)
    user.is_active = False
    user.save()
    assert f"u.{user.pk}" not in streams.of_session(session)


def test_a_session_made_with_a_fallback_secret_key_still_follows_its_user(user, settings):
    session = logged_in(user)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert f"u.{user.pk}" in streams.of_session(session)


def test_a_session_of_a_backend_no_longer_configured_follows_no_user(user, settings):
    session = logged_in(user)
    settings.AUTHENTICATION_BACKENDS = ["tests.testapp.nobody.Backend"]
    assert streams.of_session(session) == [streams.for_session(session)]
