"""Fixtures for tests that need a real Jupyter server and a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.jupyter import CHROMIUM, chromium_available


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium. `make test` (and .ci/run) install Debian's package when missing."""
    if not chromium_available():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install it (apt-get install -y chromium) "
            "or run the suite with `make test`, which does."
        )
    from tests.integration.browser import chromium

    with chromium() as launched:
        yield launched
