"""`koppelpunt rotate-pepper` re-keys every stored code so no koppeling is lost and no plain code is needed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from las import services
from las.models import Koppeling, KoppelingAanbod
from las.secrets import code_digest
from tests.las.cast import Cast


def _koppelingen(cast: Cast, codes: list[str]) -> list[Koppeling]:
    aanbod = KoppelingAanbod.objects.filter(bevestiging_vereist=False).order_by("id")
    return [
        services.activate(
            vestiging=cast.a00, aanbod=aanbod[i], user=cast.anna_school_a, naam="Anna",
            startdatum=dt.date.today(), code=code,
        )
        for i, code in enumerate(codes)
    ]


def test_rotation_keeps_every_koppeling_working(cast: Cast, settings, tmp_path, monkeypatch) -> None:
    settings.DATA_DIR = tmp_path
    settings.KEY_PEPPER, settings.KEY_PEPPER_PREVIOUS = "first-pepper-" + "a" * 30, []
    codes = [f"21QW00-rotation-code-{i:03d}" for i in range(3)]
    koppelingen = _koppelingen(cast, codes)
    before = {k.id: k.code_hmac for k in koppelingen}

    monkeypatch.setenv("KOPPELPUNT_NEW_KEY_PEPPER", "second-pepper-" + "b" * 30)
    call_command("rotate_pepper")

    assert settings.KEY_PEPPER == "second-pepper-" + "b" * 30
    assert settings.KEY_PEPPER_PREVIOUS == ["first-pepper-" + "a" * 30]
    for code, koppeling in zip(codes, koppelingen, strict=True):
        koppeling.refresh_from_db()
        assert koppeling.code_hmac != before[koppeling.id]
        assert koppeling.code_hmac == code_digest(code)
        assert Koppeling.objects.met_code(code).get() == koppeling
    assert (tmp_path / "key_pepper.secret").read_text() == settings.KEY_PEPPER
    assert (tmp_path / "key_pepper_previous.secret").read_text() == "first-pepper-" + "a" * 30

    # A second rotation chains on: codes still resolve, and the old pepper alone no longer does.
    monkeypatch.setenv("KOPPELPUNT_NEW_KEY_PEPPER", "third-pepper-" + "c" * 30)
    call_command("rotate_pepper")
    assert Koppeling.objects.met_code(codes[0]).get() == koppelingen[0]
    settings.KEY_PEPPER_PREVIOUS = []
    assert not Koppeling.objects.met_code(codes[0]).exists()


@pytest.mark.django_db
def test_rotation_refuses_weak_or_reused_peppers(settings, monkeypatch) -> None:
    monkeypatch.setenv("KOPPELPUNT_NEW_KEY_PEPPER", "short")
    with pytest.raises(CommandError, match="at least 32"):
        call_command("rotate_pepper")
    monkeypatch.setenv("KOPPELPUNT_NEW_KEY_PEPPER", settings.KEY_PEPPER)
    with pytest.raises(CommandError, match="differ"):
        call_command("rotate_pepper")
