"""Step 5 of the README's guided path in a browser: results a partner brought back over UWLR show at the school.

The demo school (las.demo) with its active Basispoort koppeling; a partner sends BrengLeerresultaten over real
HTTP to the live server with the printed verification code; the school admin opens Resultaten.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import httpx

from tests.browser.conftest import login, screenshot


def test_results_brought_back_show_under_resultaten(page: Any, live_server: Any) -> None:
    from las import demo
    from las.models import Leerling, Schooljaar
    from las.uwlr_demo import DEMO_VERIFICATIECODE
    from uwlr import leerresultaten as lr
    from uwlr import soap

    demo.seed(io.StringIO(), base_url=live_server.url)
    pupils = list(Leerling.objects.filter(vestiging__school__brincode="21QW", vestiging__dependancecode="00",
                                          jaargroep="5").order_by("pk")[:3])
    norms = lr.Normering((lr.Norm("E", 0, 19), lr.Norm("D", 20, 39), lr.Norm("C", 40, 59), lr.Norm("B", 60, 79),
                          lr.Norm("A", 80, 100)))
    toets = lr.Toets(toetscode=lr.VocabulaireGebondenVeld("BP-REK-M5"), toetsnaam="Rekenen midden groep 5",
                     vakgebied=lr.VocabulaireGebondenVeld("Rekenen en wiskunde"), toetsnormering=norms)
    afgenomen = dt.date.today() - dt.timedelta(days=2)
    verzoek = lr.LeerresultatenVerzoek(
        school=lr.ResultatenSchool(schooljaar=Schooljaar.voor_datum().naam, aanmaakdatum=dt.datetime.now(),
                                   brincode="21QW", dependancecode=None),
        toetsafnames=tuple(
            lr.Toetsafname(p.key, (lr.Resultaat(f"bp-{p.pk}", afgenomen, "BP-REK-M5", score),), eckid=p.eckid or None)
            for p, score in zip(pupils, (34, 71, 88), strict=True)
        ),
        toetsen=(toets,),
    )
    body = lr.build_request(verzoek, soap.Autorisatie(DEMO_VERIFICATIECODE, "BASISPOORT", "Basispoort"))
    response = httpx.post(live_server.url + "/school/uwlr/leerresultaten", content=body, timeout=30,
                          headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"BrengLeerresultaten"'})
    assert response.status_code == 200, response.text[:2000]

    login(page, *demo.DEMO_BEHEERDER)
    page.goto("/school/21QW00/resultaten/")
    table = page.locator("table.resultaten")
    table.wait_for()
    assert table.locator("tbody tr").count() == 3
    text = table.inner_text()
    assert "Rekenen midden groep 5" in text and "Basispoort" in text
    assert sorted(table.locator("td.norm").all_inner_texts()) == ["A", "B", "D"]
    screenshot(page, "las-resultaten")
    table.locator("tbody tr").first.get_by_role("link").click()
    page.wait_for_load_state()
    assert "Rekenen midden groep 5" in page.content()
    screenshot(page, "las-resultaten-leerling")
    assert page.console_errors == []
