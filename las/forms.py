from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from las.models import Koppeling, Vestiging
from las.secrets import code_digests

CODE_MIN = 20
CODE_MAX = 50
# The code travels in a SOAP header as xs:string; whitespace and control characters get trimmed or mangled
# by some clients, so they are refused up front.
_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")


def validate_code(code: str, vestiging: Vestiging) -> None:
    """Raise ValidationError (Dutch, every broken rule at once) unless `code` is acceptable for `vestiging`."""
    errors: list[ValidationError] = []
    if not code.startswith(vestiging.code6):
        errors.append(ValidationError(
            _("The verification code must start with the BRIN and vestiging number of your school: %(code6)s."),
            code="prefix", params={"code6": vestiging.code6},
        ))
    if len(code) < CODE_MIN:
        errors.append(ValidationError(
            _("The verification code is too short: at least %(min)d characters, you entered %(len)d."),
            code="too_short", params={"min": CODE_MIN, "len": len(code)},
        ))
    if len(code) > CODE_MAX:
        errors.append(ValidationError(
            _("The verification code is too long: at most %(max)d characters, you entered %(len)d."),
            code="too_long", params={"max": CODE_MAX, "len": len(code)},
        ))
    if _BAD_CHARS.search(code):
        errors.append(ValidationError(_("The verification code may not contain spaces."), code="spaces"))
    if errors:
        raise ValidationError(errors)
    if Koppeling.objects.filter(code_hmac__in=code_digests(code)).exists():
        raise ValidationError(
            _("This verification code is already in use. Choose a different code."), code="not_unique"
        )


class CodeField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Verification code"))
        kwargs.setdefault("max_length", None)
        # Never strip: what the school typed is exactly what the partner must send.
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off", "maxlength": "64"})
        return attrs


class ActiverenForm(forms.Form):
    naam = forms.CharField(label=_("Your name"), max_length=200,
                           error_messages={"required": _("Enter your name.")})
    akkoord = forms.BooleanField(label=_("Agreed"),
                                 error_messages={"required": _("Tick 'Agreed' to accept the terms of use.")})
    # A text field in the seeds' Dutch form (26-11-2026): a browser date picker shows the browser's locale.
    startdatum = forms.DateField(label=_("Start date"),
                                 widget=forms.DateInput(format="%-d-%-m-%Y", attrs={"placeholder": "dd-mm-jjjj",
                                                                                    "inputmode": "numeric"}),
                                 input_formats=["%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y"],
                                 error_messages={"required": _("Enter a start date."),
                                                 "invalid": _("Enter a valid date.")})
    verificatiecode = CodeField(error_messages={"required": _("Enter a verification code.")})

    def __init__(self, *args: Any, vestiging: Vestiging, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vestiging = vestiging
        self.fields["startdatum"].initial = timezone.localdate()

    def clean_startdatum(self) -> dt.date:
        value: dt.date = self.cleaned_data["startdatum"]
        if value < timezone.localdate():
            raise ValidationError(_("The start date cannot be in the past."), code="past")
        return value

    def clean_verificatiecode(self) -> str:
        code: str = self.cleaned_data["verificatiecode"]
        validate_code(code, self.vestiging)
        return code


class BewerkenForm(forms.Form):
    """Change the code (rotate / resume) or remove it (pause). Which one is the button that was pressed."""

    OPSLAAN = "opslaan"
    PAUZEREN = "pauzeren"

    verificatiecode = CodeField(required=False, label=_("New verification code"))

    def __init__(self, *args: Any, koppeling: Koppeling, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.koppeling = koppeling

    @property
    def actie(self) -> str:
        return self.PAUZEREN if self.data.get("actie") == self.PAUZEREN else self.OPSLAAN

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code = cleaned.get("verificatiecode") or ""
        if self.actie == self.PAUZEREN:
            if not self.koppeling.code_hmac:
                raise ValidationError(_("This koppeling is already paused."), code="already_paused")
            return cleaned
        if not code:
            self.add_error("verificatiecode", ValidationError(
                _("Enter a new verification code, or choose 'Remove verification code' to pause the exchange."),
                code="required",
            ))
            return cleaned
        try:
            validate_code(code, self.koppeling.vestiging)
        except ValidationError as exc:
            self.add_error("verificatiecode", exc)
        return cleaned
