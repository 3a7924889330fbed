"""The README's guided path, walked over HTTP against `koppelpunt demo` running as a real subprocess.

A fresh data directory (new SQLite database, new secrets), a free port, no mocks: the school admin activates
Rekenwereld with a verification code of their own, the application admin requests the connection with it, the
service desk tests and approves it, the admin imports, and the demo's in-process worker brings the test results to
the school, where they show under Resultaten.
"""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = "21QW01-Mijn-eigen-code-42"
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    def __init__(self, proc: subprocess.Popen[str], base: str, log: Path) -> None:
        self.proc, self.base, self.log = proc, base, log
        self.data = log.parent

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data = tmp_path_factory.mktemp("demo-data")
    log = data / "demo.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)  # the demo is the embedded SQLite install, whatever the suite runs on
    env.update({"KOPPELPUNT_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"})
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "koppelpunt.cli", "demo", "--port", str(port), "--worker-interval", "0.5"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
    running = Demo(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"koppelpunt demo stopped:\n{running.output()}"
            try:
                if httpx.get(running.base + "/health", timeout=2).json() == {"status": "ok"}:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            assert time.monotonic() < deadline, f"no /health within 90 s:\n{running.output()}"
            time.sleep(0.3)
        yield running
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def csrf(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(base: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=True, timeout=60)
    page = client.get("/inloggen/")
    r = client.post("/inloggen/", data={"csrfmiddlewaretoken": csrf(page.text), "username": username,
                                         "password": password})
    assert r.status_code == 200 and "/inloggen/" not in str(r.url), f"login of {username} failed"
    return client


def post(client: httpx.Client, url: str, data: dict[str, str], form_page: str | None = None) -> httpx.Response:
    page = form_page if form_page is not None else client.get(url).text
    return client.post(url, data={"csrfmiddlewaretoken": csrf(page), **data})


def printed(output: str, label: str) -> str:
    """`username / password` printed after a role label."""
    match = re.search(rf"{re.escape(label)}\s+(\S+) / (\S+)", output)
    assert match, f"{label!r} not printed:\n{output}"
    return f"{match.group(1)}\0{match.group(2)}"


def test_the_guided_path_over_http(demo: Demo) -> None:
    out = demo.output()
    assert "Rondleiding" in out and "21QW01" in out
    school_user, school_pw = printed(out, "schoolbeheerder (LAS)").split("\0")
    app_user, app_pw = printed(out, "beheerder in de applicatie (EA)").split("\0")
    ks_user, ks_pw = printed(out, "klantenservice (EA)").split("\0")
    wizard = re.search(r"(/applicatie/school/(\d+)/koppelen/)", out)
    assert wizard, out
    koppelen_url, school_id = wizard.group(1), wizard.group(2)

    # 1. The school admin activates Rekenwereld for 21QW01 with a code of their own.
    school = login(demo.base, school_user, school_pw)
    overzicht = school.get("/school/21QW01/koppelingen/")
    assert overzicht.status_code == 200 and "Rekenwereld" in overzicht.text
    activeren = "/school/21QW01/koppelingen/activeren/rekenwereld/"
    form = school.get(activeren)
    assert form.status_code == 200
    startdatum = re.search(r'name="startdatum"[^>]*value="([^"]+)"', form.text)
    assert startdatum
    r = post(school, activeren, {"naam": "Marieke de Groot", "akkoord": "on", "startdatum": startdatum.group(1),
                                 "verificatiecode": CODE}, form.text)
    assert r.status_code == 200 and CODE in r.text  # shown this once
    assert "Actief" in school.get("/school/21QW01/koppelingen/").text

    # 2. The application admin requests the connection with that code.
    app = login(demo.base, app_user, app_pw)
    page = app.get(koppelen_url)
    assert page.status_code == 200 and "Passewaaij" in page.text
    las_type = re.search(r'<option value="(\d+)"[^>]*>Koppelpunt \(eigen LAS\)</option>', page.text)
    assert las_type, "the LAS type of our own school side is not offered"
    r = post(app, koppelen_url, {"las_type": las_type.group(1), "brincode": "21QW", "dependancecode": "01",
                                 "schooljaar": re.search(r'name="schooljaar"[^>]*value="([^"]+)"', page.text)
                                 .group(1),  # type: ignore[union-attr]
                                 "autorisatiesleutel": CODE, "schoolkey": "", "actie": "aanvragen"}, page.text)
    assert r.status_code == 200 and 'id="lopende-aanvraag"' in r.text

    # 3. The service desk tests the connection (a real UWLR call to the demo's own LAS) and approves.
    ks = login(demo.base, ks_user, ks_pw)
    lijst = ks.get("/applicatie/klantenservice/").text
    aanvragen = re.findall(r'href="(/applicatie/klantenservice/aanvraag/(\d+)/)"', lijst)
    assert len({pk for _, pk in aanvragen}) == 2, "the seeded request and ours wait"  # main location + ours
    ours = max(aanvragen, key=lambda a: int(a[1]))[0]
    detail = ks.get(ours)
    assert "Passewaaij" in detail.text or "01" in detail.text
    test = post(ks, ours, {"actie": "test"}, detail.text)
    assert test.status_code == 200 and 'class="message error' not in test.text, html.unescape(test.text)[:3000]
    r = post(ks, ours, {"actie": "goedkeuren"}, test.text)
    assert r.status_code == 200 and str(r.url).endswith("/applicatie/klantenservice/")

    # 4. The admin imports: the demo's worker fetches the LAS data in the background while the fetch page refreshes
    # itself (as a browser follows its <meta http-equiv="refresh">), then the wizard shows the staged data; the
    # summary's GEGEVENS IMPORTEREN applies it.
    importeren = f"/applicatie/school/{school_id}/importeren/"
    r = post(app, importeren, {})
    deadline = time.monotonic() + 60
    while r.status_code == 200 and re.search(r"/importeren/\d+/$", str(r.url)):
        assert "Gegevens worden opgehaald uit het LAS" in r.text, html.unescape(r.text)[:3000]
        assert time.monotonic() < deadline, f"the fetch did not finish:\n{demo.output()[-3000:]}"
        time.sleep(0.5)
        r = app.get(str(r.url))
    assert r.status_code == 200 and "/import/" in str(r.url), html.unescape(r.text)[:3000]
    run_id = re.search(r"/import/(\d+)/", str(r.url)).group(1)  # type: ignore[union-attr]
    samenvatting = f"/applicatie/school/{school_id}/import/{run_id}/samenvatting/"
    r = post(app, samenvatting, {"actie": "importeren"})
    assert r.status_code == 200 and str(r.url).endswith(f"/applicatie/school/{school_id}/leerlingen/"), (
        html.unescape(r.text)[:3000]
    )
    assert "geïmporteerd" in r.text

    # 5. The demo's worker pushes the results of the linked pupils; the school sees them under Resultaten.
    deadline = time.monotonic() + 60
    while True:
        resultaten = school.get("/school/21QW01/resultaten/")
        assert resultaten.status_code == 200
        rows = re.findall(r'<tr data-key="[^"]+">', resultaten.text)
        if len(rows) >= 2:
            break
        assert time.monotonic() < deadline, f"no results at the school:\n{demo.output()[-3000:]}"
        time.sleep(0.5)
    assert "Rekenwereld toets rekenen" in resultaten.text and "Rekenwereld" in resultaten.text
    assert len(rows) == 2  # the third pupil was not linked (spelled differently): its result waits
    for client in (school, app, ks):
        client.close()
    # The terminal shows short text log lines (one per request) and the printed e-mails, never the code.
    output = demo.output()
    assert re.search(r"^\d\d:\d\d:\d\d INFO +GET /school/21QW01/resultaten/ 200$", output, re.M), output[-3000:]
    assert '"level"' not in output and CODE not in output


def test_the_readme_check_example_passes_against_the_demo(demo: Demo) -> None:
    """The README's `koppelpunt check` example, run as written (port and school year as the demo printed)."""
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"^(KOPPELPUNT_CHECK_KEY=\S+) \./dev check (.+?)\n(?!    )", readme, re.M | re.S)
    assert example, "no `./dev check` example in the README"
    key = example.group(1).split("=", 1)[1]
    args = example.group(2).replace("\\\n", " ").split()
    schooljaar = re.search(r"^schooljaar: (\S+)$", demo.output(), re.M)
    assert schooljaar and key in demo.output()  # the README's key is the one the demo prints
    args = [a.replace("http://127.0.0.1:8000", demo.base) for a in args]
    args[args.index("--schooljaar") + 1] = schooljaar.group(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update({"KOPPELPUNT_CHECK_KEY": key, "KOPPELPUNT_DATA_DIR": str(demo.data)})
    done = subprocess.run([sys.executable, "-m", "koppelpunt.cli", "check", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"Resultaat: \d+ PASS, 0 FAIL", done.stdout), done.stdout[-2000:]


def test_a_busy_port_is_named_before_anything_is_seeded(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DJANGO_"))}
        env.pop("DATABASE_URL", None)
        env["KOPPELPUNT_DATA_DIR"] = str(tmp_path)
        done = subprocess.run([sys.executable, "-m", "koppelpunt.cli", "demo", "--port", str(port)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"Poort {port} op 127.0.0.1 is al in gebruik" in done.stderr and f"--port {port + 1}" in done.stderr
    assert "School (LAS)" not in done.stdout and not (tmp_path / "koppelpunt.sqlite3").exists()
