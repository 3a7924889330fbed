from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sync import services
from sync.simulatie import SimLas


@pytest.fixture(autouse=True)
def dispatched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, float | None]]:
    """Queue messages are recorded instead of sent to huey (the in-process tests run jobs themselves)."""
    sent: list[tuple[str, int, float | None]] = []
    monkeypatch.setattr(services, "dispatch", lambda kind, pk, delay: sent.append((kind, pk, delay)))
    return sent


@pytest.fixture(autouse=True)
def close_pooled_transport() -> Iterator[None]:
    """The jobs run in this thread keep a pooled HTTP connection; a kept-alive connection to the live server keeps
    its request thread (and that thread's database session) alive, so close it after each test."""
    yield
    services.close_transport()


@pytest.fixture
def sim_las() -> Iterator[SimLas]:
    with SimLas(aantal=3) as las:
        yield las


@pytest.fixture
def scholen(sim_las: SimLas, db: Any, settings: Any) -> list[int]:
    settings.BASE_URL = "https://koppelpunt.example"
    from sync.simulatie import seed

    return seed(3, sim_las.base_url)
