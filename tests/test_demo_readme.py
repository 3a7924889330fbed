"""The README stays true: its configuration table names exactly the variables the code reads, and the images and
documents it links to exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SOURCES = [ROOT / "deploy" / "gunicorn.conf.py"] + [
    p for d in ("koppelpunt", "las", "ea", "sync", "uwlr") for p in (ROOT / d).rglob("*.py")
]
# Read by the test suite only (never by a deployment).
TEST_ONLY = {"KOPPELPUNT_TEST_SQLITE"}


def _variables_in_code() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        found |= set(re.findall(r"\b(KOPPELPUNT_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL)\b", path.read_text()))
    # las/autorisatie builds the throttle names from a prefix; settings.py spells each one out.
    return {v for v in found if not v.endswith("_FAILURES")} - TEST_ONLY


def _configuration_table() -> str:
    return README.split("## Configuration", 1)[1].split("\n## ", 1)[0]


def test_configuration_table_lists_every_variable_the_code_reads() -> None:
    table = _configuration_table()
    listed = set(re.findall(r"`(KOPPELPUNT_[A-Z0-9_]+|DATABASE_URL)`", table))
    # "…_KLANT" style abbreviations stand for the full names of the same family.
    for short in re.findall(r"`…(_[A-Z]+)`", table):
        listed |= {v for v in _variables_in_code() if v.endswith(short)}
    missing = _variables_in_code() - listed
    assert not missing, f"not in the README's configuration table: {sorted(missing)}"
    unknown = listed - _variables_in_code()
    assert not unknown, f"in the README but read nowhere: {sorted(unknown)}"


def test_readme_links_and_images_exist() -> None:
    targets = re.findall(r"\]\(((?:docs|deploy)/[^)#]+|SECURITY\.md)\)", README)
    assert any(t.startswith("docs/screenshots/") for t in targets)
    for target in targets:
        assert (ROOT / target).exists(), target
    demo = (ROOT / "docs" / "demo.md").read_text()
    for image in re.findall(r"\]\((screenshots/[^)]+)\)", demo):
        assert (ROOT / "docs" / image).exists(), image


def test_readme_opens_with_the_two_commands() -> None:
    commands = re.findall(r"^(\./dev \w+)", README, re.M)
    assert commands[:2] == ["./dev demo", "./dev test"]
