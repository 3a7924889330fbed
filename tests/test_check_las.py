"""`koppelpunt check` passes against our own LAS: a real HTTP server (pytest-django `live_server`), a seeded school
with an active koppeling, and the checker as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from las import leerlinggegevens as las_lg
from las.catalogus import load_catalogue
from las.models import Schooljaar, UwlrToegang
from tests.las.uwlr_helpers import LG_URL, activate, school, vestiging

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_state() -> None:
    las_lg.cache.clear_local()
    # A transactional test flushes the tables afterwards, data-migration rows included: put the catalogue back.
    load_catalogue()


def run_check(url: str, key: str, klantcode: str, klantnaam: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KOPPELPUNT_ENV": "test", "KOPPELPUNT_CHECK_KEY": key}
    return subprocess.run(
        [sys.executable, "-m", "koppelpunt.cli", "check", url, "--klantcode", klantcode, "--klantnaam", klantnaam,
         "--schooljaar", Schooljaar.voor_datum().naam, "--timeout", "30", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_koppelpunt_check_passes_against_our_own_las(live_server) -> None:  # type: ignore[no-untyped-def]
    school("21QW", (("00", 20), ("01", 12)))
    school("12AB", (("00", 8),), seed=2)  # another school on the same server, for the "andere school" probe
    koppeling, code = activate(vestiging("21QW", "01"), "snappet")
    aanbod = koppeling.aanbod

    done = run_check(live_server.url + LG_URL, code, aanbod.klantcode, aanbod.klantnaam,
                     "--brin", "21QW", "--dependancecode", "01")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert not [line for line in out.splitlines() if line.startswith("FAIL")], out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("Resultaat: ") and summary.endswith(" 0 FAIL, 0 WARN — geslaagd"), out
    assert code not in out + done.stderr
    # every operation really reached the LAS (its access log), for this koppeling
    operaties = set(UwlrToegang.objects.filter(koppeling=koppeling).values_list("operatie", flat=True))
    assert operaties >= {"HaalLeerlinggegevens", "HaalStructuur", "HaalLeerlingen", "HaalLeerkrachten"}


def test_koppelpunt_check_json_against_our_own_las_by_getrapt_url(live_server) -> None:  # type: ignore[no-untyped-def]
    school("21QW", (("00", 6),))
    koppeling, code = activate(vestiging("21QW", "00"), "snappet")
    url = live_server.url + LG_URL
    done = run_check(url, code, koppeling.aanbod.klantcode, koppeling.aanbod.klantnaam, "--brin", "21QW",
                     "--getrapt-url", url, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["totals"]["FAIL"] == 0
    checks = {(c["operation"], c["check"]): c for c in report["checks"]}
    assert checks[("HaalLeerlinggegevens", "schema")]["status"] == "PASS"
    assert checks[("fout: verkeerde sleutel", "faultcode")]["got"] == "Client.AutorisatieOngeldig"
    assert code not in done.stdout
