"""The UWLR fault codes as a typed exception tree.

A server raises (or maps errors to) these and serialises them with `uwlr.soap.build_fault`; a client
parses a SOAP fault back into the same class with `fault_from_code`. Fault codes and their fixed Dutch
faultstrings follow the UWLR agreement (see UWLR-SPEC §7); `detail` carries a more specific Dutch
explanation which we put on the wire in `<detail>` so a partner's developer can see what was wrong.
"""

from __future__ import annotations

from typing import ClassVar


class UwlrError(Exception):
    """Base of everything this library raises on purpose."""


class UwlrFault(UwlrError):
    """A SOAP fault with a UWLR fault code. Subclasses fix `code` and the standard `faultstring`."""

    code: ClassVar[str] = "Server.InterneFout"
    faultstring: ClassVar[str] = "Er is een interne fout opgetreden"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail
        super().__init__(f"{self.code}: {detail or self.faultstring}")

    @property
    def is_client_fault(self) -> bool:
        return self.code.startswith("Client.")


class ClientFault(UwlrFault):
    """The request was wrong; sending it again unchanged will fail again."""

    code = "Client"
    faultstring = "Inhoud van het bericht is ongeldig"


class ServerFault(UwlrFault):
    """The server could not answer; a later retry may succeed."""

    code = "Server"
    faultstring = "Er is een interne fout opgetreden"


class OngeldigBericht(ClientFault):
    code = "Client.OngeldigBericht"
    faultstring = "Inhoud van het bericht is ongeldig"


class OngeldigeKlantIdentificatie(ClientFault):
    code = "Client.OngeldigeKlantIdentificatie"
    faultstring = "Klantidentificatie onjuist"


class AutorisatieOngeldig(ClientFault):
    code = "Client.AutorisatieOngeldig"
    faultstring = "Autorisatie is ongeldig"


class VocabulaireTermOngeldig(ClientFault):
    code = "Client.VocabulaireTermOngeldig"
    faultstring = "Vocabulairterm ongeldig"


class XsdVersieOngeldig(ClientFault):
    code = "Client.XsdVersieOngeldig"
    faultstring = "De opgegeven XSD-versie is onjuist"


class LeerlingOngeldig(ClientFault):
    code = "Client.LeerlingOngeldig"
    faultstring = "Leerling ongeldig"


class ToetsNormeringOngeldig(ClientFault):
    code = "Client.ToetsNormeringOngeldig"
    faultstring = "Toetsnormering ongeldig"


class ScoreOngeldig(ClientFault):
    code = "Client.ScoreOngeldig"
    faultstring = "Score ongeldig"


class EldResultaatOngeldig(ClientFault):
    code = "Client.EldResultaatOngeldig"
    faultstring = "ELD resultaat ongeldig"


class InterneFout(ServerFault):
    code = "Server.InterneFout"
    faultstring = "Er is een interne fout opgetreden"


class TijdelijkNietBeschikbaar(ServerFault):
    code = "Server.TijdelijkNietBeschikbaar"
    faultstring = "Server is tijdelijk niet beschikbaar"


FAULTS: dict[str, type[UwlrFault]] = {
    cls.code: cls
    for cls in (
        OngeldigBericht,
        OngeldigeKlantIdentificatie,
        AutorisatieOngeldig,
        VocabulaireTermOngeldig,
        XsdVersieOngeldig,
        LeerlingOngeldig,
        ToetsNormeringOngeldig,
        ScoreOngeldig,
        EldResultaatOngeldig,
        InterneFout,
        TijdelijkNietBeschikbaar,
    )
}


class UnknownFault(UwlrFault):
    """A fault whose code is not one of UWLR's: kept verbatim so nothing is lost."""

    def __init__(self, code: str, faultstring: str, detail: str | None = None) -> None:
        self.raw_code = code
        self.raw_faultstring = faultstring
        super().__init__(detail or faultstring)

    @property
    def is_client_fault(self) -> bool:
        return self.raw_code.startswith("Client")


def fault_from_code(code: str, faultstring: str = "", detail: str | None = None) -> UwlrFault:
    """Map a wire faultcode (any prefix: `soap:Client.X`, `s:Client.X`, `Client.X`) to its exception."""
    local = code.rsplit(":", 1)[-1].strip()
    cls = FAULTS.get(local)
    if cls is None:
        return UnknownFault(local, faultstring, detail)
    return cls(detail or (faultstring if faultstring and faultstring != cls.faultstring else None))


class TransportError(UwlrError):
    """The other side could not be reached or answered with something that is not SOAP (timeouts included)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)
