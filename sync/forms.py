from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sync.models import SyncInstelling


class InstellingForm(forms.ModelForm):
    class Meta:
        model = SyncInstelling
        fields = ["actief", "hold_percentage", "pauze_van", "pauze_tot"]
        widgets = {
            "pauze_van": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "pauze_tot": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "hold_percentage": _(
                "An automatic import that would change or deactivate more pupils than this is held for an admin."
            ),
            "pauze_van": _("For example the summer holiday: no nightly sync on these days."),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        van, tot = data.get("pauze_van"), data.get("pauze_tot")
        if van and tot and van > tot:
            self.add_error("pauze_tot", _("The end of the pause must not be before its start."))
        if bool(van) != bool(tot):
            self.add_error("pauze_tot" if van else "pauze_van", _("Fill in both the start and the end of the pause."))
        return data
