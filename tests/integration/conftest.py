"""Fixtures of the integration tests."""

from __future__ import annotations

import pytest

from partnerprojekte.services import Services
from tests.people import add_people


@pytest.fixture
def people(services: Services) -> None:
    """The people of ``tests.people`` in the test database."""
    add_people(services)
