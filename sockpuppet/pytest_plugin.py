"""Sockpuppet's pytest plugin (registered by the ``pytest11`` entry point): fixtures for
testing reflexes without a browser. See ``docs/testing.md``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sockpuppet.testing import ReflexClient


@pytest.fixture
def reflex_client(db: None) -> ReflexClient:
    """A fresh ``ReflexClient``: a browser tab's session, without the browser. Needs
    pytest-django (its ``db`` fixture: the client's session lives in the database)."""
    from sockpuppet.testing import ReflexClient  # imported when used: Django is set up then

    return ReflexClient()
