"""Load the official UWLR XSDs with lxml, for tests and for optional extra checks.

The official `EDEXML.types.variabel.xsd` enumerates school years only up to `2024-2025`, so every answer for a
later year fails it. `load_schema` therefore works on a temporary copy of the whole `Schemas` folder (the
relative includes must keep working) in which that enumeration is widened; the official files are never
touched. Validation is for tests and diagnostics: the message parsers never depend on it.
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from pathlib import Path

from lxml import etree

from uwlr.xml import parse_xml

#: Unchanged copies of the official Leerlinggegevens and Leerresultaten XSDs (and what they include), shipped as
#: package data so that an installed `koppelpunt` (the conformance checker) validates without the reference folder.
PACKAGED_SCHEMAS = Path(__file__).resolve().with_name("schemas")

LEERLINGGEGEVENS_XSD = "UWLR_Leerlinggegevens_v2p2.xsd"
LEERRESULTATEN_XSD = "UWLR_Leerresultaten_v2p2.xsd"
SMALLE_SET_XSD = "Profiel smalle set/Profiel_Smalle_set_UWLR_Leerlinggegevens_v2p2.xsd"
LVS_SET_XSD = "Profiel LVS set/Profiel_LVS_set_UWLR_Leerlinggegevens_v2p2.xsd"

_LAST_YEAR = '<xs:enumeration value="2024-2025"/>'


_REQUIRED_KEY = '<xs:attribute name="key" type="EDEXKeyType" use="required"/>'


def widened_copy(schemas_dir: Path, until: int = 2100, *, uwlr23: bool = False) -> Path:
    """Copy `schemas_dir` to a new temporary folder, with school years enumerated up to `until-1`-`until`.

    With `uwlr23`, the pupil's `key` attribute is made optional, as UWLR 2.3 allows for pupils with an ECK iD
    (no official 2.3 XSD exists; this is the one difference that matters on the wire).
    """
    target = Path(tempfile.mkdtemp(prefix="uwlr-schemas-")) / "Schemas"
    shutil.copytree(schemas_dir, target)
    for path in target.rglob("*.xsd"):
        path.chmod(0o644)  # copies of read-only originals
    variabel = target / "EDEXML.types.variabel.xsd"
    text = variabel.read_text(encoding="utf-8")
    if _LAST_YEAR not in text:
        raise ValueError(f"{variabel}: school-year enumeration not found where expected")
    extra = "".join(f'\n\t\t\t<xs:enumeration value="{y}-{y + 1}"/>' for y in range(2025, until))
    variabel.write_text(text.replace(_LAST_YEAR, _LAST_YEAR + extra), encoding="utf-8")
    if uwlr23:
        for path in target.rglob("*EDEXML.elementen.xsd"):
            text = path.read_text(encoding="utf-8")
            start = text.index('name="LeerlingType"')
            at = text.index(_REQUIRED_KEY, start)
            path.write_text(
                text[:at] + '<xs:attribute name="key" type="EDEXKeyType"/>' + text[at + len(_REQUIRED_KEY) :],
                encoding="utf-8",
            )
    return target


@functools.cache
def _widened(schemas_dir: str, uwlr23: bool) -> Path:
    return widened_copy(Path(schemas_dir), uwlr23=uwlr23)


@functools.cache
def load_schema(schemas_dir: Path, name: str = LEERLINGGEGEVENS_XSD, *, uwlr23: bool = False) -> etree.XMLSchema:
    """The XSD `name` (relative to the Schemas folder) from a widened temporary copy, loaded once per process.

    `uwlr23=True` gives the UWLR 2.3 reading (pupil `key` optional) of the same schema.
    """
    root = _widened(str(Path(schemas_dir).resolve()), uwlr23)
    return etree.XMLSchema(etree.parse(str(root / name)))


def validation_errors(schema: etree.XMLSchema, element: etree._Element | bytes) -> list[str]:
    """Schema errors for `element` (an element, or serialised XML whose root is validated)."""
    if isinstance(element, bytes):
        element = parse_xml(element)
    doc = as_document(element)
    if schema.validate(doc):
        return []
    return [f"{e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]


def as_document(element: etree._Element) -> etree._ElementTree:
    """The element as a document of its own, for validation (a body element inside an envelope is not a root)."""
    return etree.ElementTree(parse_xml(etree.tostring(element)))


def capitalised_profile_root(body: bytes) -> bytes:
    """The profile XSDs misname the getrapt roots with a capital (`Structuur_antwoord`); rename for validating.

    Only for tests that want to hold a getrapt message against a profile file; never put these on the wire.
    """
    return re.sub(
        rb"<(/?)lg:(structuur|leerlingen|leerkrachten)_(verzoek|antwoord)",
        lambda m: b"<" + m.group(1) + b"lg:" + m.group(2).capitalize() + b"_" + m.group(3),
        body,
    )
