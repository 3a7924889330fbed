"""The XML namespaces of UWLR 2.x (unchanged for 2.1, 2.2 and 2.3: the version travels in `xsdversie`)."""

from typing import Final

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
AUTORISATIE: Final = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"
LEERLINGGEGEVENS: Final = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens"
LEERRESULTATEN: Final = "http://www.edustandaard.nl/leerresultaten/2/leerresultaten"
TOETSDEFINITIES: Final = "http://www.edustandaard.nl/leerresultaten/2/toetsdefinities"
OSO: Final = "http://www.edustandaard.nl/oso_gegevensset/1.2/dossier"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"

PREFIXES: Final = {
    "soap": SOAP_ENV,
    "aut": AUTORISATIE,
    "lg": LEERLINGGEGEVENS,
    "lr": LEERRESULTATEN,
    "td": TOETSDEFINITIES,
    "oso": OSO,
}


def qname(namespace: str, local: str) -> str:
    """Clark notation, as lxml uses it: {namespace}local."""
    return f"{{{namespace}}}{local}"
