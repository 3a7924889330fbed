"""The one seam between the UWLR client and the network: `Transport.send`.

`HttpxTransport` is the real thing (pooled HTTP(S) connections, timeouts, a response size cap);
`InProcessTransport` hands the request straight to a server function, for tests and for a LAS and EA that live
in one process. Neither logs a message body or the autorisatie header: both carry secrets and pupil data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

import httpx

from uwlr.faults import TransportError
from uwlr.soap import CONTENT_TYPE
from uwlr.xml import DEFAULT_MAX_BYTES

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class TransportResponse:
    status_code: int
    content: bytes = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=dict)


class Transport(Protocol):
    def send(self, url: str, soap_action: str, body: bytes, timeout: float) -> TransportResponse:
        """POST a SOAP 1.1 request; raise `TransportError` when no HTTP answer arrives."""
        ...


def soap_action_header(soap_action: str) -> str:
    """SOAP 1.1 §6.1.1: the SOAPAction header value is a quoted URI reference."""
    return f'"{soap_action}"'


class HttpxTransport:
    """HTTP(S) over one pooled `httpx.Client`.

    `max_response_bytes` caps what we read from the other side: an answer larger than that is refused with a
    TransportError instead of filling memory. `verify` and `cert` pass through to httpx (some LAS vendors require
    a TLS client certificate).
    """

    def __init__(
        self,
        *,
        max_response_bytes: int = DEFAULT_MAX_BYTES,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        max_connections: int = 10,
        user_agent: str = "koppelpunt-uwlr",
        client: httpx.Client | None = None,
    ) -> None:
        self.max_response_bytes = max_response_bytes
        self._owns_client = client is None
        self._client = client or httpx.Client(
            verify=verify,
            cert=cert,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": user_agent},
            follow_redirects=False,
            trust_env=False,
        )

    def send(self, url: str, soap_action: str, body: bytes, timeout: float) -> TransportResponse:
        headers = {"Content-Type": CONTENT_TYPE, "SOAPAction": soap_action_header(soap_action)}
        # httpx timeouts bound each network step; the deadline also stops a server that trickles its answer.
        deadline = time.monotonic() + timeout
        try:
            with self._client.stream(
                "POST", url, content=body, headers=headers, timeout=httpx.Timeout(timeout)
            ) as response:
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_response_bytes:
                    raise self._too_large(response.status_code)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        raise self._too_large(response.status_code)
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("total deadline exceeded")
                result = TransportResponse(response.status_code, b"".join(chunks), dict(response.headers))
        except httpx.TimeoutException as exc:
            log.info("UWLR request to %s timed out (%s)", url, type(exc).__name__)
            raise TransportError(
                f"Geen antwoord van {url} binnen {timeout:g} seconden (time-out) / no answer within the timeout."
            ) from None
        except httpx.InvalidURL as exc:
            raise TransportError(f"Ongeldige URL {url!r}: {exc}") from None
        except httpx.HTTPError as exc:
            log.info("UWLR request to %s failed: %s", url, type(exc).__name__)
            raise TransportError(
                f"Verbinding met {url} mislukt / connection failed: {type(exc).__name__}: {exc}"
            ) from None
        log.debug("UWLR %s → %s: HTTP %s, %d bytes", soap_action, url, result.status_code, len(result.content))
        return result

    def _too_large(self, status_code: int) -> TransportError:
        return TransportError(
            f"Het antwoord is groter dan de toegestane {self.max_response_bytes} bytes / response too large.",
            status_code,
        )

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpxTransport:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


Handler = Callable[[bytes, str], tuple[int, bytes]]
"""A server function: (request body, SOAPAction as sent, without quotes) → (HTTP status, response body)."""


class InProcessTransport:
    """Calls `handler` directly: no sockets, same bytes as on the wire."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def send(self, url: str, soap_action: str, body: bytes, timeout: float) -> TransportResponse:
        status, content = self.handler(body, soap_action)
        return TransportResponse(status, content, {"content-type": CONTENT_TYPE})
