from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ea.models import LasType

BRIN = re.compile(r"\d{2}[A-Z]{2}")
DEPENDANCE = re.compile(r"\d{2}")
SCHOOLJAAR = re.compile(r"(\d{4})-(\d{4})")


def huidig_schooljaar(today: dt.date | None = None) -> str:
    """The school year that `today` falls in (a Dutch school year starts on 1 August)."""
    today = today or timezone.localdate()
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{start + 1}"


class KoppelForm(forms.Form):
    las_type = forms.ModelChoiceField(
        label=_("Type of connection"),
        queryset=LasType.objects.all(),
        empty_label=_("— choose your LAS —"),
        error_messages={"required": _("Choose the type of connection (your LAS).")},
    )
    brincode = forms.CharField(
        label=pgettext_lazy("form label", "BRIN code"),
        max_length=4,
        error_messages={"required": _("Enter the BRIN code of the school.")},
    )
    dependancecode = forms.CharField(label=_("Dependance code"), max_length=2, required=False)
    schooljaar = forms.CharField(label=_("School year"), max_length=9, required=False)
    autorisatiesleutel = forms.CharField(
        label=_("Authorisation key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    schoolkey = forms.CharField(label=_("SchoolKey"), max_length=256, required=False)

    def __init__(self, *args: Any, sleutel_verplicht: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sleutel_verplicht = sleutel_verplicht
        self.fields["dependancecode"].help_text = _("Two digits; leave empty (or 00) for the main location.")
        self.fields["schoolkey"].help_text = _("Leave empty, unless your LAS asks for it.")
        # Required only for a new request, so it is checked in clean; the label still shows the asterisk.
        self.fields["autorisatiesleutel"].verplicht = sleutel_verplicht  # type: ignore[attr-defined]
        if not sleutel_verplicht:
            self.fields["autorisatiesleutel"].help_text = _("Leave empty to keep the current key.")

    def clean_brincode(self) -> str:
        value = self.cleaned_data["brincode"].strip()
        if not BRIN.fullmatch(value):
            raise forms.ValidationError(
                _("The BRIN code consists of 2 digits followed by 2 capital letters, for example 21QW.")
            )
        return value

    def clean_dependancecode(self) -> str:
        value = self.cleaned_data["dependancecode"].strip()
        if value and not DEPENDANCE.fullmatch(value):
            raise forms.ValidationError(_("The dependance code consists of 2 digits, for example 01."))
        return "" if value == "00" else value

    def clean_schooljaar(self) -> str:
        value = self.cleaned_data["schooljaar"].strip() or huidig_schooljaar()
        match = SCHOOLJAAR.fullmatch(value)
        if not match or int(match.group(2)) != int(match.group(1)) + 1:
            raise forms.ValidationError(
                _("Enter the school year as two consecutive years, for example %(voorbeeld)s.")
                % {"voorbeeld": huidig_schooljaar()}
            )
        return value

    def clean_autorisatiesleutel(self) -> str:
        value = self.cleaned_data["autorisatiesleutel"]
        if not value and self.sleutel_verplicht:
            raise forms.ValidationError(_("Paste the authorisation key you received from your LAS."))
        if len(value) > 64:
            raise forms.ValidationError(
                _("The authorisation key may be at most 64 characters long (it has %(n)d).") % {"n": len(value)}
            )
        return value

    def clean_schoolkey(self) -> str:
        return self.cleaned_data["schoolkey"].strip()


class AfwijsForm(forms.Form):
    reden = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Give a reason: the school administrators receive it by e-mail.")},
    )


class ZoekForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
