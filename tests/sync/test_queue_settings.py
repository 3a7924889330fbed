"""Which huey storage KOPPELPUNT_QUEUE_URL selects (the workers' queue; the job state is in our tables anyway)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from koppelpunt import settings as project_settings


@pytest.mark.parametrize(
    ("url", "huey_class", "key", "value"),
    [
        ("postgres://kp:pw@db:5432/koppelpunt", "huey.PostgresHuey", "dsn", "postgres://kp:pw@db:5432/koppelpunt"),
        ("postgresql://db/koppelpunt", "huey.PostgresHuey", "dsn", "postgresql://db/koppelpunt"),
        ("redis://cache:6379/0", "huey.RedisHuey", "url", "redis://cache:6379/0"),
        ("sqlite:///srv/kp/queue.db", "huey.SqliteHuey", "filename", "/srv/kp/queue.db"),
    ],
)
def test_queue_url_selects_the_storage(
    monkeypatch: pytest.MonkeyPatch, url: str, huey_class: str, key: str, value: str
) -> None:
    monkeypatch.setenv("KOPPELPUNT_QUEUE_URL", url)
    config = project_settings._huey()
    assert (config["huey_class"], config[key]) == (huey_class, value)


def test_unknown_queue_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOPPELPUNT_QUEUE_URL", "amqp://rabbit")
    with pytest.raises(ImproperlyConfigured, match="must be redis://…, postgres://… or sqlite://…"):
        project_settings._huey()
