"""Run by the zeep interop tests in a subprocess: let zeep deserialise one answer envelope from stdin.

zeep 4.3.3 can loop without end (eating memory) on answers with teachers, so the parent runs this with a
timeout and we cap the address space here. Prints one JSON line: {"ok": true, "summary": {...}} or
{"ok": false, "error": "<exception type>: <message>"}.

Usage: python zeep_probe.py WSDL OPERATION strict|lax MEMORY_MB < envelope.xml
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any


def summarise(result: Any) -> dict[str, Any]:
    from zeep.helpers import serialize_object

    plain = serialize_object(result, dict)
    data = next((v for k, v in plain.items() if k.startswith("leerlinggegevens")), None) if plain else None
    if data is None:
        return {"marker": sorted(k for k, v in (plain or {}).items() if v is not None)}
    out: dict[str, Any] = {"school": {k: str(v) for k, v in data["school"].items() if v is not None}}
    if data.get("leerlingen"):
        out["leerlingen"] = [
            {k: (str(v) if not isinstance(v, dict) else v) for k, v in ll.items() if v is not None}
            for ll in data["leerlingen"]["leerling"]
        ]
    if data.get("leerkrachten"):
        out["leerkrachten"] = [lk.get("key") for lk in data["leerkrachten"]["leerkracht"]]
    if data.get("groepen"):
        # zeep folds the groep/samengestelde_groep choice into items that can hold one of each
        out["groepen"] = sorted(g["key"] for item in data["groepen"]["_value_1"] for g in item.values() if g)
    return out


def main() -> None:
    wsdl, operation, mode, memory_mb = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import zeep
    from lxml import etree

    client = zeep.Client(wsdl, settings=zeep.Settings(strict=mode == "strict"))
    port = "prtLeerlinggegevensService" if operation == "HaalLeerlinggegevens" else "prtLeerlinggegevensService-getrapt"
    binding = client.bind("LeerlinggegevensService", port)._binding
    document = etree.fromstring(sys.stdin.buffer.read())
    try:
        result = binding._operations[operation].process_reply(document)
        print(json.dumps({"ok": True, "summary": summarise(result)}, default=str))
    except Exception as exc:  # noqa: BLE001 - recording what zeep does is the point
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}))


if __name__ == "__main__":
    main()
