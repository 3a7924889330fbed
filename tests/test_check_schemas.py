"""The official XSDs that `koppelpunt check` validates with ship inside the `uwlr` package, unchanged."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from lxml import etree

from uwlr.schema import PACKAGED_SCHEMAS

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL = ROOT.parent / "shared" / "uwlr-schemas" / "Schemas"
XS = "{http://www.w3.org/2001/XMLSchema}"


def test_packaged_schemas_are_unchanged_official_copies() -> None:
    packaged = sorted(PACKAGED_SCHEMAS.glob("*.xsd"))
    assert {p.name for p in packaged} >= {"UWLR_Leerlinggegevens_v2p2.xsd", "UWLR_Leerresultaten_v2p2.xsd"}
    for path in packaged:
        assert path.read_bytes() == (OFFICIAL / path.name).read_bytes(), path.name


def test_packaged_schemas_are_self_contained() -> None:
    for path in PACKAGED_SCHEMAS.glob("*.xsd"):
        for ref in etree.parse(str(path)).iter(f"{XS}include", f"{XS}import"):
            location = ref.get("schemaLocation")
            assert location and (PACKAGED_SCHEMAS / location).is_file(), f"{path.name} needs {location}"


def test_an_installed_package_validates_without_the_reference_folder(tmp_path: Path) -> None:
    # Build the package the way an install does (setuptools build_py with our pyproject package-data) into a
    # folder far from the repository and the shared reference folder, then validate a later school year there.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "uwlr", src / "uwlr", ignore=shutil.ignore_patterns("__pycache__"))
    lib = tmp_path / "lib"
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", "from setuptools import setup; setup()", "-q", "build_py", "-d",
         str(lib)],
        cwd=src, check=True, capture_output=True, timeout=120,
    )
    script = textwrap.dedent(
        """
        import uwlr, uwlr.schema
        from uwlr.leerlinggegevens import build_answer
        from uwlr.model import Leerling, Leerlinggegevens, Operation, School
        from uwlr.schema import PACKAGED_SCHEMAS, load_schema, validation_errors
        data = Leerlinggegevens(School("2031-2032", brincode="21QW"), leerlingen=[Leerling("L1", achternaam="A")])
        schema = load_schema(PACKAGED_SCHEMAS)
        print(uwlr.__file__)
        print(validation_errors(schema, build_answer(Operation.HAAL_LEERLINGGEGEVENS, data)))
        print(validation_errors(schema, b'<lg:structuur_antwoord xmlns:lg="http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens"/>'))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env={"PYTHONPATH": str(lib)}, capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    where, valid, invalid = done.stdout.splitlines()
    assert Path(where).is_relative_to(lib)
    assert valid == "[]"
    assert "Missing child element" in invalid
