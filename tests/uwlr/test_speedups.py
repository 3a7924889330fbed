"""The compiled fast path for pupils (`uwlr._speedups`) against the pure-Python reference parser.

Its contract is one-sided: it may decline (return None) whenever anything is unusual, and then the pure-Python
parser decides; when it returns records, they are exactly the ones the pure-Python parser returns. These tests
check that contract over generated schools, over randomly mutated answers (including the constructs it declines
on purpose: CDATA, comments, processing instructions, foreign attributes and elements), and end to end: the
whole `parse_answer` gives the same result or the same error with and without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.uwlr.lg_samples import full_school, restructure, schools
from uwlr import leerlinggegevens as lg
from uwlr.model import Leerlinggegevens, Operation
from uwlr.namespaces import LEERLINGGEGEVENS, XSI
from uwlr.validation import OngeldigAntwoord
from uwlr.xml import parse_xml

NS = f"{{{LEERLINGGEGEVENS}}}"
PLAN = lg._LEERLING_PARSER.plan
needs_plan = pytest.mark.skipif(PLAN is None, reason="uwlr._speedups is not built here (pure Python only)")
# Comments and PIs survive this parser, unlike the hardened one: parse_answer also takes trees made elsewhere.
# Otherwise the hardened parser's options (no entity resolution, no network, no DTD).
KEEPING_PARSER = etree.XMLParser(
    remove_comments=False, remove_pis=False, strip_cdata=False, resolve_entities=False, no_network=True, load_dtd=False
)


def test_the_compiled_path_is_built_where_ci_requires_it() -> None:
    # .ci/run sets this: CI must exercise the compiled path, not silently fall back to pure Python.
    if os.environ.get("UWLR_REQUIRE_SPEEDUPS") != "1":
        pytest.skip("UWLR_REQUIRE_SPEEDUPS is not set")
    assert lg.speedups_enabled(), "uwlr._speedups was not built or not loaded (a C compiler is needed)"


def test_uwlr_pure_python_turns_it_off() -> None:
    code = (
        "from uwlr import leerlinggegevens as lg; from uwlr.model import Operation; "
        "from tests.uwlr.lg_samples import full_school; "
        "body = lg.build_answer(Operation.HAAL_LEERLINGEN, full_school(3)); "
        "from lxml import etree; data = lg.parse_answer(etree.fromstring(body)); "
        "print(lg.speedups_enabled(), len(data.leerlingen))"
    )
    env = {**os.environ, "UWLR_PURE_PYTHON": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "3"]


def _container(body: bytes, parser: etree.XMLParser | None = None) -> etree._Element:
    root = parse_xml(body) if parser is None else etree.fromstring(body, parser)
    found = root.find(f".//{NS}leerlingen")
    assert found is not None
    return found


def _pure(container: etree._Element) -> Any:
    try:
        return lg._LEERLING_PARSER.parse_all(container, f"{NS}leerling")
    except OngeldigAntwoord as exc:
        return exc


@needs_plan
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schools())
def test_it_reads_everything_our_builder_writes_exactly_as_the_reference(school: Leerlinggegevens) -> None:
    assert PLAN is not None
    container = _container(lg.build_answer(Operation.HAAL_LEERLINGEN, school))
    compiled = PLAN.parse_all(container)
    assert compiled is not None, "declined a plain answer of our own"
    assert compiled == _pure(container) == school.leerlingen


@needs_plan
def test_it_reads_a_full_school_with_every_pupil_field() -> None:
    assert PLAN is not None
    school = full_school(8)
    container = _container(lg.build_answer(Operation.HAAL_LEERLINGGEGEVENS, school))
    compiled = PLAN.parse_all(container)
    assert compiled is not None and compiled == school.leerlingen


TEXTS = ["", " ", "x", "5", "C", "NL", "1", "01", "+1", " 1", "9", "2015-03-02", "2015-3-2", "2015-02-30",
         "2015-03-02Z", "20150302", "2025-10-02T08:30:15", "2025-10-02T25:00:00", "1234AB", "123456789", "LRK",
         "2025-2026", "é" * 64, "é" * 65, "x" * 201, "x" * 256, "x" * 257]  # fmt: skip
BASE = lg.build_answer(Operation.HAAL_LEERLINGEN, full_school(5))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid pupil list changed in 1-3 places, including what the compiled walk must decline."""
    root = etree.fromstring(BASE)
    container = root.find(f".//{NS}leerlingen")
    assert container is not None
    for _ in range(draw(st.integers(1, 3))):
        elements = [el for el in container.iter() if el is not container and isinstance(el.tag, str)]
        el = draw(st.sampled_from(elements))
        action = draw(
            st.sampled_from(
                [
                    "drop",
                    "duplicate",
                    "move",
                    "text",
                    "attribute",
                    "cdata",
                    "comment",
                    "pi",
                    "child",
                    "foreign",
                    "tail",
                    "empty",
                    "rename",
                    "refs",
                ]  # fmt: skip
            )
        )
        if restructure(draw, el, action):
            continue
        if action == "text":
            el.text = draw(st.sampled_from(TEXTS))
        elif action == "attribute":
            name = draw(st.sampled_from(["key", "eckid", "extra", f"{{{XSI}}}type", "{urn:other}key"]))
            el.set(name, draw(st.sampled_from(TEXTS)))
        elif action == "cdata" and len(el) == 0 and el.text:
            el.text = etree.CDATA(el.text)
        elif action == "comment":
            el.insert(draw(st.integers(0, len(el))), etree.Comment("c"))
        elif action == "pi":
            el.insert(draw(st.integers(0, len(el))), etree.ProcessingInstruction("pi", "x"))
        elif action == "child":
            etree.SubElement(el, draw(st.sampled_from([f"{NS}samengestelde_groep", f"{NS}naam", "plain"])), key="SG1")
        elif action == "foreign":
            el.addnext(etree.Element(draw(st.sampled_from(["{urn:other}achternaam", "achternaam"]))))
        elif action == "tail":
            el.tail = draw(st.sampled_from(["\n  ", "stray", ""]))
        elif action == "empty":
            el.text = None
            for child in list(el):
                el.remove(child)
        elif action == "rename":
            el.tag = draw(st.sampled_from([f"{NS}leerling", f"{NS}roepnaam", f"{NS}groep", f"{NS}onbekend"]))
        elif action == "refs":
            refs = etree.SubElement(el, f"{NS}samengestelde_groepen")
            etree.SubElement(refs, f"{NS}samengestelde_groep", key=draw(st.sampled_from(["SG1", "", "x" * 257])))
    return etree.tostring(root)


@needs_plan
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_when_it_returns_records_they_are_the_references_records(body: bytes) -> None:
    assert PLAN is not None
    container = _container(body, KEEPING_PARSER)
    compiled = PLAN.parse_all(container)
    reference = _pure(container)
    if compiled is None:
        event("declined: " + ("reference refused" if isinstance(reference, OngeldigAntwoord) else "reference read"))
        return
    event("read")
    assert compiled == reference


@contextmanager
def _pure_python_only() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lg._LEERLING_PARSER, "plan", None)
        yield


def _outcome(body: bytes) -> Any:
    try:
        return lg.parse_answer(etree.fromstring(body, KEEPING_PARSER), Operation.HAAL_LEERLINGEN)
    except OngeldigAntwoord as exc:
        return ("refused", str(exc))


@needs_plan
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_parse_answer_gives_the_same_result_or_the_same_error_either_way(body: bytes) -> None:
    with_compiled = _outcome(body)
    with _pure_python_only():
        without = _outcome(body)
    assert with_compiled == without


@needs_plan
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda p: p.find(f"{NS}roepnaam").__setattr__("text", etree.CDATA("Sem")), id="cdata"),
        pytest.param(lambda p: p.set(f"{{{XSI}}}type", "LeerlingType"), id="xsi-attribute"),
        pytest.param(lambda p: p.find(f"{NS}geboortedatum").__setattr__("text", "2015-03-02+01:00"), id="zoned-date"),
        pytest.param(lambda p: p.find(f"{NS}geslacht").__setattr__("text", " 1"), id="integer-whitespace"),
    ],
)
def test_it_declines_what_only_the_reference_handles_and_the_reference_reads_it(change: Any) -> None:
    assert PLAN is not None
    root = etree.fromstring(BASE, KEEPING_PARSER)
    pupil = root.find(f".//{NS}leerlingen/{NS}leerling")
    assert pupil is not None
    change(pupil)
    container = pupil.getparent()
    assert container is not None
    assert PLAN.parse_all(container) is None
    data = lg.parse_answer(root)
    assert isinstance(data, Leerlinggegevens) and len(data.leerlingen) == 5


@needs_plan
def test_it_declines_a_comment_and_the_reference_refuses_it() -> None:
    # The hardened parser drops comments; in a tree made elsewhere one is not a pupil field.
    assert PLAN is not None
    root = etree.fromstring(BASE, KEEPING_PARSER)
    pupil = root.find(f".//{NS}leerlingen/{NS}leerling")
    assert pupil is not None
    pupil.insert(0, etree.Comment("opmerking"))
    assert PLAN.parse_all(pupil.getparent()) is None  # type: ignore[arg-type]
    with pytest.raises(OngeldigAntwoord, match="onbekend element"):
        lg.parse_answer(root)


@needs_plan
def test_a_refused_pupil_is_reported_by_the_reference_with_its_key() -> None:
    root = etree.fromstring(BASE)
    pupil = root.find(f".//{NS}leerlingen/{NS}leerling")
    assert pupil is not None
    pupil.find(f"{NS}geboortedatum").text = "2015-02-30"  # type: ignore[union-attr]
    with pytest.raises(OngeldigAntwoord, match=rf"leerling '{pupil.get('key')}': 'geboortedatum' is geen geldige"):
        lg.parse_answer(root)


@needs_plan
def test_it_reads_character_and_predefined_entity_references_like_the_reference() -> None:
    # Other LASes write references our builder never does; the hardened parser resolves these into the text.
    assert PLAN is not None
    body = BASE.replace(b'key="L00000"', b'key="L&#48;0000&amp;"', 1)
    body = body.replace(b"<lg:roepnaam>", b"<lg:roepnaam>&#233;&#x20AC;&lt;&gt;&quot;", 1)
    container = _container(body)
    compiled = PLAN.parse_all(container)
    assert compiled is not None and compiled == _pure(container)
    assert compiled[0].key == "L00000&" and compiled[0].roepnaam is not None
    assert compiled[0].roepnaam.startswith('é€<>"')


@needs_plan
def test_an_extension_built_against_another_lxml_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Its view of lxml's structs would be wrong: the pure-Python parser is used instead.
    assert lg._speedups is not None
    monkeypatch.setattr(lg._speedups, "LXML_VERSION", "5.0.0")
    assert lg._compiled_plan(lg._LEERLING_PARSER, lg._T_LEERLING) is None
    monkeypatch.undo()
    assert lg._compiled_plan(lg._LEERLING_PARSER, lg._T_LEERLING) is not None
