"""Every form and action, fed hostile values by its own user: never a server error (HTTP 500).

The pages are fetched as their owner, the field names read from the HTML (`<input>`, `<select>`, `<textarea>`),
and each is filled with hypothesis-generated values: huge, control characters (NUL, which PostgreSQL refuses in
text), markup, non-BMP characters, numbers where text is expected and the reverse. Query strings get the same.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.test_web_permissions import CSRF_EXEMPT, ROUTES, Route, World, _kind, _url, world  # noqa: F401

pytestmark = pytest.mark.django_db

HOSTILE = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
    st.sampled_from(["\x00", "a\x00b", "<script>alert(1)</script>", "' OR 1=1 --", "x" * 5000, "-1", "0",
                     "99999999999999999999999", "1e999", "NaN", "2026-02-30", "../../etc/passwd", "\U0001f600" * 3,
                     "", " ", "on", "true", "\u202e", "%00", "{{7*7}}", "${7*7}"]),
)
def _close_file(response: Any) -> None:
    """A file download holds its file open; response.close() would also fire request_finished, which closes
    the test's database connection (it is inside a transaction), so only the file is closed."""
    if getattr(response, "streaming", False):
        for closer in response._resource_closers:
            closer()


FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"')


def _fields(client: Client, url: str) -> list[str]:
    response = client.get(url)
    _close_file(response)
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return []
    return sorted(set(FIELD.findall(response.content.decode())) - {"csrfmiddlewaretoken"})


FORMS = [r for r in ROUTES if r.name not in CSRF_EXEMPT and r.name not in ("logout",)]


@pytest.mark.parametrize("route", FORMS, ids=lambda r: r.name)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_form_values_never_cause_a_server_error(route: Route, world: World, data: st.DataObject) -> None:  # noqa: F811
    client = world.owner.get(_kind(route)) or Client()
    url = _url(route, world)
    names = _fields(client, url) or ["actie", "q", "besluit", "reden"]
    values = {name: data.draw(HOSTILE, label=name) for name in names}
    client.raise_request_exception = True
    post = client.post(url, values)
    _close_file(post)
    assert post.status_code < 500, (route.name, values)
    get = client.get(url, {k: v for k, v in values.items() if "\x00" not in v} | {"q": data.draw(HOSTILE)})
    _close_file(get)
    assert get.status_code < 500, (route.name, values)


VALUE = re.compile(r'<(?:input|button|option)[^>]*\sname="([^"]+)"[^>]*\svalue="([^"]*)"')
COMPANIONS = ["a\x00b", "<script>alert(1)</script>", "x" * 5000, "-1", "\U0001f600", ""]


@pytest.mark.parametrize("route", FORMS, ids=lambda r: r.name)
def test_every_offered_action_with_hostile_other_fields(route: Route, world: World) -> None:  # noqa: F811
    """Each button/option value a page offers, posted with hostile values in all its other fields."""
    client = world.owner.get(_kind(route)) or Client()
    client.raise_request_exception = True
    url = _url(route, world)
    response = client.get(url)
    _close_file(response)
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return
    html = response.content.decode()
    names = set(FIELD.findall(html)) - {"csrfmiddlewaretoken"}
    offered = [(n, v) for n, v in VALUE.findall(html) if n != "csrfmiddlewaretoken"]
    for name, value in offered:
        for companion in COMPANIONS:
            values = {other: companion for other in names if other != name} | {name: value}
            post = client.post(url, values)
            _close_file(post)
            assert post.status_code < 500, (route.name, values)
