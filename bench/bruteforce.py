"""Brute force: how many key guesses per minute can an attacker make against one school?

`python -m bench bruteforce [--seconds 20] [--threads 4]`

Starts the production-like server of `bench load` (gunicorn, KOPPELPUNT_ENV=production, fresh SQLite) twice:
once with throttling effectively off (limits of 10^9) and once with the default limits, and runs three attackers
for `--seconds` each, all sending HaalLeerlinggegevens for 21QW00 with wrong keys as fast as they can:

- unthrottled: one address, throttling off (what the hardware allows);
- one address: the default limits (per address);
- distributed: every request from another loopback address (127.0.x.y), the default limits (per school).

A "tested key" is an answer that compared the key (Client.AutorisatieOngeldig); a refused attempt
(Server.TijdelijkNietBeschikbaar) tests nothing. Prints requests/minute and tested keys/minute per attacker, and
the steady state the limits allow. Exit status 0 when throttling cuts the tested keys by at least 100×.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx

from bench.load import production_server

DEFAULTS = {"ip": 20, "klant": 200, "school": 50, "window": 600}
OFF = {f"KOPPELPUNT_UWLR_THROTTLE_FAILURES_{n}": str(10**9) for n in ("IP", "KLANT", "VESTIGING")}


@dataclass
class Counts:
    requests: int = 0
    tested: int = 0
    refused: int = 0
    other: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _body(template: str, n: int) -> bytes:
    guess = f"21QW00-guess-{n:020d}"
    return re.sub(r"<aut:autorisatiesleutel>[^<]*", f"<aut:autorisatiesleutel>{guess}", template, count=1).encode()


def _addresses() -> itertools.cycle[str]:
    return itertools.cycle(f"127.0.{a}.{b}" for a in range(1, 200) for b in range(2, 255))


def _attacker(base: str, template: str, stop: float, counts: Counts, numbers: itertools.count[int],
              addresses: itertools.cycle[str] | None, lock: threading.Lock) -> None:
    headers = {"Content-Type": "text/xml; charset=utf-8", "X-Forwarded-Proto": "https"}
    fixed = httpx.Client(base_url=base, headers=headers, timeout=30) if addresses is None else None
    while time.monotonic() < stop:
        with lock:
            n = next(numbers)
            address = next(addresses) if addresses is not None else None
        if fixed is not None:
            response = fixed.post("/school/uwlr/leerlinggegevens", content=_body(template, n))
        else:
            transport = httpx.HTTPTransport(local_address=address)
            with httpx.Client(base_url=base, headers=headers, timeout=30, transport=transport) as http:
                response = http.post("/school/uwlr/leerlinggegevens", content=_body(template, n))
        fault = re.search(rb"<faultcode>soap:([^<]+)</faultcode>", response.content)
        code = fault.group(1).decode() if fault else f"HTTP {response.status_code}"
        with counts.lock:
            counts.requests += 1
            if code == "Client.AutorisatieOngeldig":
                counts.tested += 1
            elif code == "Server.TijdelijkNietBeschikbaar":
                counts.refused += 1
            else:
                counts.other[code] = counts.other.get(code, 0) + 1
    if fixed is not None:
        fixed.close()


def attack(base: str, template: str, seconds: float, threads: int, distributed: bool) -> Counts:
    counts, numbers, lock = Counts(), itertools.count(), threading.Lock()
    addresses = _addresses() if distributed else None
    stop = time.monotonic() + seconds
    workers = [threading.Thread(target=_attacker, args=(base, template, stop, counts, numbers, addresses, lock))
               for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return counts


def _report(name: str, counts: Counts, seconds: float) -> None:
    per_min = 60 / seconds
    other = f", other {counts.other}" if counts.other else ""
    print(f"{name:<12} {counts.requests * per_min:>8.0f} attempts/min  {counts.tested * per_min:>8.1f} tested keys/min "
          f" ({counts.tested} tested, {counts.refused} refused{other})")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench bruteforce", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args(argv)
    print(f"bruteforce: wrong keys for 21QW00 over loopback, {args.threads} attacker threads, {args.seconds:g} s each")
    with production_server(20, workers=args.workers, extra_env=OFF) as (base, info):
        free = attack(base, info["request"], args.seconds, args.threads, False)
    with production_server(20, workers=args.workers) as (base, info):
        one = attack(base, info["request"], args.seconds, args.threads, False)
        spread = attack(base, info["request"], args.seconds, args.threads, True)
    _report("unthrottled", free, args.seconds)
    _report("one address", one, args.seconds)
    _report("distributed", spread, args.seconds)
    window_min = DEFAULTS["window"] / 60
    print(f"steady state with the default limits: {DEFAULTS['ip'] / window_min:.0f} tested keys/min per address, "
          f"{DEFAULTS['school'] / window_min:.0f}/min per school from unknown addresses, however many; a "
          f"verification code has >= 14 free characters after its school code, an issued key 40 random ones "
          f"(~230 bits)")
    throttled = one.tested + spread.tested
    # Both throttled attackers together may test the school's limit of keys (plus requests already in flight).
    allowed = DEFAULTS["school"] + 2 * args.threads
    print(f"tested keys in {args.seconds:g} s: {free.tested} unthrottled, {throttled} throttled (limit {allowed})")
    return 0 if throttled <= allowed and not one.other and not spread.other else 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
