"""What claimed background jobs (a nightly sync, a results push, an import fetch) share: the claim token and the
heartbeat.

A job's row holds its claim (a token, written with a conditional UPDATE) and a `heartbeat_at`; another worker may
take the job over once the heartbeat is older than the lease. A LAS call may take longer than that (a getrapt pull
of a big school from a slow LAS makes many), so the beat comes from a side thread while the job works: only a
worker that really stopped loses its claim.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable

from django.db import connections

log = logging.getLogger(__name__)


def worker_naam() -> str:
    """This worker thread's name in claims and logs: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def claim_token(worker: str | None = None) -> str:
    """A fresh token per claim: the fence that stops a worker that lost its claim from writing an end state."""
    return f"{worker or worker_naam()}/{secrets.token_hex(4)}"[:120]


class Hartslag:
    """`with Hartslag(beat, interval, name):` calls `beat()` every `interval` seconds in a side thread until the block
    ends. `beat` writes the heartbeat and returns False when the claim is gone, which ends the beating."""

    def __init__(self, beat: Callable[[], bool], interval: float, name: str) -> None:
        self.beat, self.interval, self.name = beat, interval, name
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.wait(self.interval):
                try:
                    if not self.beat():
                        return
                except Exception:  # a missed beat is harmless unless they all fail; the lease decides
                    log.warning("%s failed", self.name, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connection

    def __enter__(self) -> Hartslag:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
