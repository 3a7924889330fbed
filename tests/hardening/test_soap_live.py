"""Hostile SOAP over real HTTP (Django's live server), with a per-request timeout, and bounded memory.

The live server runs in this process's threads, so a hang shows up as an httpx timeout, and a crash as a
non-SOAP answer. Memory is measured in a fresh subprocess (peak RSS, which also sees lxml's C allocations).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.conftest import Target, make_target, verdict
from tests.hardening.payloads import ATTACKS, HARMLESS, MUTATIONS, _mutate
from tests.las.uwlr_helpers import LG_URL, LR_URL

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = httpx.Timeout(20.0)


@pytest.fixture
def live_target(transactional_db: None, live_server, settings) -> tuple[str, Target]:  # type: ignore[no-untyped-def]
    settings.UWLR_THROTTLE_FAILURES_IP = 10**9
    settings.UWLR_THROTTLE_FAILURES_KLANT = 10**9
    settings.UWLR_THROTTLE_FAILURES_VESTIGING = 10**9
    return live_server.url, make_target()


def _send(http: httpx.Client, url: str, body: bytes, action: str) -> str:
    response = http.post(url, content=body, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action})
    return verdict(response.status_code, response.headers.get("content-type", ""), response.content)


def test_known_attacks_over_http(live_target: tuple[str, Target]) -> None:
    base, target = live_target
    with httpx.Client(timeout=TIMEOUT) as http:
        for url, action, valid in ((LG_URL, '"HaalLeerlinggegevens"', target.lg_request),
                                   (LR_URL, '"BrengLeerresultaten"', target.lr_request)):
            for name, attack in sorted(ATTACKS.items()):
                outcome = _send(http, base + url, attack(valid), action)
                assert name in HARMLESS or outcome != "ok", name
        # The server still answers normally afterwards.
        assert _send(http, base + LG_URL, target.lg_request, '"HaalLeerlinggegevens"') == "ok"


@settings(max_examples=40, deadline=20_000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_requests_over_http(live_target: tuple[str, Target], data: st.DataObject) -> None:
    base, target = live_target
    url, action, valid = data.draw(st.sampled_from([
        (LG_URL, '"HaalLeerlinggegevens"', target.lg_request), (LR_URL, '"BrengLeerresultaten"', target.lr_request),
        (LG_URL, "", target.getrapt_requests[1])]))
    with httpx.Client(timeout=TIMEOUT) as http:
        _send(http, base + url, _mutate(valid, data.draw(MUTATIONS)), action)


def test_raw_http_garbage_never_kills_the_server(live_target: tuple[str, Target]) -> None:
    """Bodies that are not XML at all, chunked uploads and absurd headers."""
    base, target = live_target
    with httpx.Client(timeout=TIMEOUT) as http:
        for body in (b"\x00" * 10_000, b"GET / HTTP/1.1\r\n\r\n", b"<" * 100_000, bytes(range(256)) * 100):
            _send(http, base + LG_URL, body, "")

        def chunks():  # type: ignore[no-untyped-def]
            for i in range(0, len(target.lg_request), 50):
                yield target.lg_request[i:i + 50]

        # Django's test server cannot read a chunked body: it answers the empty request with a fault and may close
        # while chunks still arrive, or read the leftover chunks as a next request on the same connection. So the
        # upload goes over a connection of its own, and a reset is accepted: what matters is that the server lives
        # on (checked below). gunicorn in production reads chunked bodies.
        with httpx.Client(timeout=TIMEOUT) as chunked:
            try:
                response = chunked.post(base + LG_URL, content=chunks(), headers={"Content-Type": "text/xml"})
            except httpx.RemoteProtocolError:
                pass
            else:
                verdict(response.status_code, response.headers.get("content-type", ""), response.content)
        response = http.post(base + LG_URL, content=target.lg_request,
                             headers={"Content-Type": "text/xml", "SOAPAction": "x" * 6000})
        verdict(response.status_code, response.headers.get("content-type", ""), response.content)
        assert _send(http, base + LG_URL, target.lg_request, "") == "ok"


_MEMORY_SCRIPT = textwrap.dedent("""
    import gc, json, sys
    sys.path.insert(0, sys.argv[1])
    from uwlr import soap
    from uwlr import leerlinggegevens as lg
    from uwlr import leerresultaten as lr
    from uwlr.faults import UwlrFault

    # The message is read from a file so that building it does not set the peak before we measure.
    data = open(sys.argv[2], "rb").read()
    gc.collect()

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])

    # Reset the high-water mark (imports peaked above what we measure), then peak minus current is our growth.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
    try:
        env = soap.parse_request(data, max_bytes=20 * 1024 * 1024)
        lg.parse_request(env.body, lg.operation_for(env.body))
        outcome = "ok"
    except UwlrFault as exc:
        outcome = exc.code
    after = status("VmHWM")
    print(json.dumps({"outcome": outcome, "size": len(data), "growth_kb": after - before}))
""")

BIG = ["billion_laughs", "quadratic_blowup", "huge_attribute", "many_attributes", "many_namespaces", "deep_nesting",
       "deep_nesting_unclosed", "wide_body", "wide_body_at_cap", "oversized", "long_text", "many_headers",
       "utf16_doctype"]


@pytest.mark.slow
@pytest.mark.parametrize("attack", BIG)
def test_memory_is_bounded_for_big_hostile_inputs(attack: str, tmp_path: Path) -> None:
    """Peak RSS growth while refusing a hostile message stays within a small multiple of the message itself."""
    from uwlr import leerlinggegevens as lg
    from uwlr import soap
    from uwlr.model import Operation, Verzoek

    valid = lg.build_request(Verzoek(Operation.HAAL_LEERLINGGEGEVENS, "2026-2027", brincode="21QW"),
                             soap.Autorisatie("21QW00-abcdefghijklmnopq", "SNAPPET", "Snappet"))
    (tmp_path / "attack.xml").write_bytes(ATTACKS[attack](valid))
    result = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(ROOT), str(tmp_path / "attack.xml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    growth_mb = measured["growth_kb"] / 1024
    size_mb = measured["size"] / 1024 / 1024
    # A parse tree costs a few times its text; an entity bomb would cost gigabytes. 64 MB headroom + 6x input.
    assert growth_mb < 64 + 6 * size_mb, measured
    assert attack in HARMLESS or measured["outcome"] != "ok", measured
