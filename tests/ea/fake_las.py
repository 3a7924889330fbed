"""A tiny but real LAS for tests: an HTTP server on 127.0.0.1 that answers UWLR Leerlinggegevens requests with
messages built by uwlr.leerlinggegevens (and the real fault for a wrong key)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from uwlr import model


class FakeLas:
    """A tiny real LAS on 127.0.0.1: answers UWLR Leerlinggegevens requests (alles-in-1 and getrapt) with
    messages built by uwlr.leerlinggegevens from `data`, and the real fault when the key is wrong."""

    def __init__(self, data: model.Leerlinggegevens, sleutel: str) -> None:
        self.data, self.sleutel = data, sleutel
        self.calls: list[str] = []
        self.server: Any = None

    def handle(self, body: bytes) -> tuple[int, bytes]:
        from uwlr import faults, leerlinggegevens, soap

        try:
            envelope, verzoek = leerlinggegevens.parse_request_envelope(body)
            if envelope.autorisatie is None or envelope.autorisatie.autorisatiesleutel != self.sleutel:
                raise faults.AutorisatieOngeldig("Onbekende autorisatiesleutel")
        except faults.UwlrFault as fault:
            return 500, soap.build_fault(fault)
        self.calls.append(verzoek.operation.value)
        data = self.data
        if verzoek.operation is model.Operation.HAAL_LEERLINGEN:
            keys = {r.key for r in verzoek.groepen}
            data = model.Leerlinggegevens(
                data.school,
                leerlingen=[p for p in data.leerlingen if p.groep in keys or (None in keys and not p.groep)],
            )
        elif verzoek.operation is model.Operation.HAAL_LEERKRACHTEN:
            keys = {r.key for r in verzoek.groepen}
            data = model.Leerlinggegevens(
                data.school,
                leerkrachten=[
                    t
                    for t in data.leerkrachten
                    if any(g.key in keys for g in t.groepen) or (None in keys and not t.groepen)
                ],
            )
        answer = leerlinggegevens.build_answer_envelope(
            verzoek.operation, data, xsdversie=verzoek.xsdversie, validate=False
        )
        return 200, answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/uwlr/leerlinggegevens"


@contextlib.contextmanager
def running_fake_las(data: model.Leerlinggegevens, sleutel: str) -> Iterator[FakeLas]:
    las = FakeLas(data, sleutel)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, answer = las.handle(body)
            self.send_response(status)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    las.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=las.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield las
    finally:
        las.server.shutdown()
        las.server.server_close()
        thread.join(5)
