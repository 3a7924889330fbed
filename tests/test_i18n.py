"""The whole UI is Dutch: every msgid the code uses has a Dutch translation, and every catalogue is sound.

The msgids are extracted independently of makemessages (regexes for templates, the AST for Python), so a
string added to a template or form without a translation in its app's .po fails here, not in front of a school.
"""

from __future__ import annotations

import ast
import gettext as pygettext
import re
from collections import Counter
from pathlib import Path

import pytest
from django.utils import translation

from koppelpunt.msgfmt import parse_po, write_mo

ROOT = Path(__file__).resolve().parent.parent
APPS = ["koppelpunt", "las", "ea", "sync"]

# Words that are spelled the same in Dutch (or are Dutch domain terms used as msgids); only these may
# translate to themselves. Keep this list short: an entry here is a string the test cannot check.
IDENTICAL_IN_DUTCH = {
    "Status", "status", "Score", "score", "Type", "type", "School", "school", "Details", "details", "Norm", "norm",
    "OK", "ECK iD", "SchoolKey", "LVS set", "S(B)O", "VSO", "Remedial teacher", "Vestiging", "vestiging",
    "vestigingen", "Koppeling", "koppeling", "Koppelingen",
    "%(naam)s (%(counter)s koppeling)", "%(naam)s (%(counter)s koppelingen)",
    *(f"Groep {n}" for n in range(1, 9)),
}

# A msgid: (context or None, singular, plural or None)
Msg = tuple[str | None, str, str | None]

_STR = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_TRANSLATE = re.compile(r"\{%\s*(?:translate|trans)\s+(" + _STR + r")(.*?)%\}", re.S)
_CONTEXT = re.compile(r"\bcontext\s+(" + _STR + r")")
_BLOCK = re.compile(
    r"\{%\s*(?:blocktranslate|blocktrans)\b(.*?)%\}(.*?)\{%\s*(?:endblocktranslate|endblocktrans)\s*%\}", re.S
)
_PLURAL = re.compile(r"\{%\s*plural\s*%\}")
_UNDERSCORE = re.compile(r"\b_\((" + _STR + r")\)")  # {{ x|default:_("…") }}, {% tag _("…") %}
_VAR = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def _literal(token: str) -> str:
    value = ast.literal_eval(token)
    assert isinstance(value, str)
    return value


def _block_text(body: str, trimmed: bool) -> str:
    # What BlockTranslateNode hands to gettext: literal % doubled, {{ var }} as %(var)s, optionally trimmed.
    parts = []
    pos = 0
    for m in _VAR.finditer(body):
        parts.append(body[pos:m.start()].replace("%", "%%"))
        parts.append(f"%({m.group(1)})s")
        pos = m.end()
    parts.append(body[pos:].replace("%", "%%"))
    text = "".join(parts)
    if trimmed:
        text = " ".join(re.sub(r"\s*\n\s*", "\n", text.strip()).split("\n"))
    return text


def template_msgids(text: str) -> set[Msg]:
    found: set[Msg] = set()
    for m in _TRANSLATE.finditer(text):
        ctx = _CONTEXT.search(m.group(2))
        found.add((_literal(ctx.group(1)) if ctx else None, _literal(m.group(1)), None))
    for m in _UNDERSCORE.finditer(text):
        found.add((None, _literal(m.group(1)), None))
    for m in _BLOCK.finditer(text):
        options, body = m.group(1), m.group(2)
        trimmed = bool(re.search(r"\btrimmed\b", options))
        ctx = _CONTEXT.search(options)
        pieces = _PLURAL.split(body, maxsplit=1)
        singular, plural = pieces[0], pieces[1] if len(pieces) > 1 else None
        found.add((
            _literal(ctx.group(1)) if ctx else None,
            _block_text(singular, trimmed),
            _block_text(plural, trimmed) if plural is not None else None,
        ))
    return found


# gettext function name -> (index of the context argument or None, index of the plural argument or None)
_PY_FUNCS: dict[str, tuple[int | None, int | None]] = {
    "_": (None, None), "gettext": (None, None), "gettext_lazy": (None, None), "gettext_noop": (None, None),
    "pgettext": (0, None), "pgettext_lazy": (0, None),
    "ngettext": (None, 1), "ngettext_lazy": (None, 1),
    "npgettext": (0, 2), "npgettext_lazy": (0, 2),
}


def python_msgids(source: str) -> set[Msg]:
    found: set[Msg] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name not in _PY_FUNCS:
            continue
        ctx_at, plural_at = _PY_FUNCS[name]
        singular_at = 0 if ctx_at is None else 1
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
        needed = [singular_at] + [i for i in (ctx_at, plural_at) if i is not None]
        if len(args) <= max(needed) or any(args[i] is None for i in needed):
            continue  # a gettext call on a variable: nothing to extract
        singular = args[singular_at]
        assert singular is not None
        found.add((
            args[ctx_at] if ctx_at is not None else None,
            singular,
            args[plural_at] if plural_at is not None else None,
        ))
    return found


def app_msgids(app: str) -> dict[Msg, set[str]]:
    """Every msgid the app's code uses, with the files that use it."""
    where: dict[Msg, set[str]] = {}
    base = ROOT / app
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(ROOT)
        if not path.is_file() or "locale" in rel.parts or "__pycache__" in rel.parts or "static" in rel.parts:
            continue
        if path.suffix == ".py":
            found = python_msgids(path.read_text(encoding="utf-8"))
        elif "templates" in rel.parts and path.suffix in {".html", ".txt", ".xml"}:
            found = template_msgids(path.read_text(encoding="utf-8"))
        else:
            continue
        for msg in found:
            where.setdefault(msg, set()).add(str(rel))
    return where


def po_path(app: str) -> Path:
    return ROOT / app / "locale" / "nl" / "LC_MESSAGES" / "django.po"


def catalogue_key(msg: Msg) -> str:
    ctx, singular, plural = msg
    key = singular if plural is None else singular + "\x00" + plural
    return key if ctx is None else ctx + "\x04" + key


def _runtime(msg: Msg) -> list[tuple[str, str]]:
    """(English, Dutch) pairs as Django renders them, one per plural form."""
    ctx, singular, plural = msg
    with translation.override("nl"):
        if plural is None:
            dutch = translation.gettext(singular) if ctx is None else translation.pgettext(ctx, singular)
            return [(singular, dutch)]
        if ctx is None:
            return [
                (singular, translation.ngettext(singular, plural, 1)),
                (plural, translation.ngettext(singular, plural, 5)),
            ]
        return [
            (singular, translation.npgettext(ctx, singular, plural, 1)),
            (plural, translation.npgettext(ctx, singular, plural, 5)),
        ]


def untranslated(app: str, po: Path | None = None) -> list[str]:
    po = po or po_path(app)
    catalogue = parse_po(po.read_text(encoding="utf-8"))  # parse_po drops fuzzy and empty entries
    problems = []
    for msg, files in sorted(app_msgids(app).items(), key=lambda item: (item[0][1], item[0][0] or "")):
        label = f"{msg[1]!r} (used in {', '.join(sorted(files))})"
        if catalogue_key(msg) not in catalogue:
            problems.append(f"no Dutch translation in {app}'s django.po: {label}")
            continue
        for english, dutch in _runtime(msg):
            if dutch == english and english not in IDENTICAL_IN_DUTCH:
                problems.append(f"renders in English: {label}")
    return problems


@pytest.mark.parametrize("app", APPS)
def test_every_msgid_the_code_uses_has_a_dutch_translation(app: str) -> None:
    assert app_msgids(app), f"no msgids found in {app}: the extraction is broken"
    assert untranslated(app) == []


def test_the_extraction_sees_what_django_would() -> None:
    found = template_msgids(
        '{% load i18n %}{% translate "Log in" %}{% trans \'Save\' as s %}'
        '{% translate "BRIN code" context "form label" %}{{ run.fout|default:_("Waiting.") }}'
        "{% blocktranslate with naam=k.naam trimmed %}\n  Give this key to {{ naam }}\n  (100%).\n"
        "{% endblocktranslate %}"
        "{% blocktranslate count n=x|length %}{{ n }} result{% plural %}{{ n }} results{% endblocktranslate %}"
    )
    assert found == {
        (None, "Log in", None),
        (None, "Save", None),
        (None, "Waiting.", None),
        ("form label", "BRIN code", None),
        (None, "Give this key to %(naam)s (100%%).", None),
        (None, "%(n)s result", "%(n)s results"),
    }
    assert python_msgids(
        'from django.utils.translation import gettext_lazy as _, ngettext, pgettext_lazy\n'
        'a = _("operation")\nb = ngettext("%d koppeling", "%d koppelingen", n)\nc = pgettext_lazy("ctx", "May")\n'
        'd = _("long "\n      "text")\ne = _(variable)\n'
    ) == {(None, "operation", None), (None, "%d koppeling", "%d koppelingen"), ("ctx", "May", None),
          (None, "long text", None)}


def test_a_blanked_translation_is_caught(tmp_path: Path) -> None:
    # Guards the guard: the same check against a copy of las's catalogue with one translation blanked.
    text = po_path("las").read_text(encoding="utf-8")
    blanked = text.replace('msgid "Results"\nmsgstr "Resultaten"', 'msgid "Results"\nmsgstr ""', 1)
    assert blanked != text
    copy = tmp_path / "django.po"
    copy.write_text(blanked, encoding="utf-8")
    problems = untranslated("las", copy)
    assert any("'Results'" in p and "no Dutch translation" in p for p in problems), problems


class Entry:
    """One live (non-obsolete) .po entry: its flags and its keywords (msgctxt, msgid, msgstr[0], …)."""

    def __init__(self) -> None:
        self.flags: set[str] = set()
        self.fields: dict[str, str] = {}


def po_entries(text: str) -> list[Entry]:
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", text):
        entry = Entry()
        current = None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry.flags = {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue  # comments, and obsolete (#~) entries
            elif line.startswith('"') and current:
                entry.fields[current] += _literal(line)
            else:
                keyword, _, value = line.partition(" ")
                current = keyword
                entry.fields[keyword] = _literal(value)
        if "msgid" in entry.fields:
            entries.append(entry)
    return entries


@pytest.mark.parametrize("app", APPS)
def test_catalogue_compiles_and_has_no_duplicates(app: str, tmp_path: Path) -> None:
    text = po_path(app).read_text(encoding="utf-8")
    entries = po_entries(text)
    keys = Counter((e.fields.get("msgctxt"), e.fields["msgid"]) for e in entries)
    assert [k for k, n in keys.items() if n > 1] == []
    fuzzy = [e.fields["msgid"] for e in entries if "fuzzy" in e.flags]
    assert fuzzy == [], "fuzzy entries are left out of the .mo: check the translation, then unmark it"

    messages = parse_po(text)
    mo = tmp_path / "django.mo"
    write_mo(messages, mo)
    with mo.open("rb") as fh:
        compiled = pygettext.GNUTranslations(fh)
    assert compiled.info().get("content-type", "").lower() == "text/plain; charset=utf-8"
    assert compiled.ngettext("x", "xs", 1) == "x" and compiled.ngettext("x", "xs", 2) == "xs"
    assert "nplurals=2; plural=(n != 1);" in compiled.info().get("plural-forms", "")
    # Every live entry made it into the .mo: nothing empty, nothing silently dropped by the parser.
    assert len(messages) == len(entries)
    for e in entries:
        f = e.fields
        if f["msgid"] == "":
            continue
        if "msgid_plural" in f:
            got = compiled.npgettext(f["msgctxt"], f["msgid"], f["msgid_plural"], 1) if "msgctxt" in f else \
                compiled.ngettext(f["msgid"], f["msgid_plural"], 1)
        elif "msgctxt" in f:
            got = compiled.pgettext(f["msgctxt"], f["msgid"])
        else:
            got = compiled.gettext(f["msgid"])
        assert got == (f.get("msgstr") or f.get("msgstr[0]")), f["msgid"]


_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


@pytest.mark.parametrize("app", APPS)
def test_translations_keep_the_placeholders(app: str) -> None:
    # A lost %(name)s drops data from the page; an extra one raises KeyError when the page renders.
    problems = []
    for e in po_entries(po_path(app).read_text(encoding="utf-8")):
        f = e.fields
        if f["msgid"] == "" or "python-format" not in e.flags:
            continue
        english = set(_PLACEHOLDER.findall(f["msgid"]))
        both = english | set(_PLACEHOLDER.findall(f.get("msgid_plural", "")))
        for key, dutch in sorted(f.items()):
            if not key.startswith("msgstr"):
                continue
            named = set(_PLACEHOLDER.findall(dutch))
            # A plural form may leave the count out ("één koppeling"), but must not invent a name.
            if not named <= both if "msgid_plural" in f else named != english:
                problems.append((f["msgid"], dutch))
    assert problems == []


def test_apps_agree_on_shared_msgids() -> None:
    # Django merges the apps' catalogues and the first app in INSTALLED_APPS silently wins, so two different
    # Dutch texts for one msgid means one app shows the other's wording: keep them equal.
    seen: dict[str, tuple[str, str]] = {}
    conflicts = []
    for app in APPS:
        for key, dutch in parse_po(po_path(app).read_text(encoding="utf-8")).items():
            if key and key in seen and seen[key][1] != dutch:
                conflicts.append((key, seen[key], (app, dutch)))
            seen.setdefault(key, (app, dutch))
    assert conflicts == []
