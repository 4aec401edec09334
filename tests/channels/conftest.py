"""Fixtures of the channel tests."""
from __future__ import annotations

import pytest

from channels.facebook import QuickReplyPages


@pytest.fixture
def pages(sqlite_url) -> QuickReplyPages:
    """Messenger's "Autres choix" pages, in the test's own SQLite database."""
    return QuickReplyPages(sqlite_url)
