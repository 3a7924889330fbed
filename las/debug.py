"""Keep a posted verification code out of error reports, in every frame of the traceback.

`sensitive_post_parameters`/`sensitive_variables` only cover the request's POST dict and the frames we decorate;
Django's own form code holds the value in plain locals too (`value`, `cleaned_data`). Views that receive a code
set `request.exception_reporter_filter = SecretMaskingFilter()`, which Django's error page and error mails use.
"""

from __future__ import annotations

from typing import Any

from django.views.debug import SafeExceptionReporterFilter


class SecretMaskingFilter(SafeExceptionReporterFilter):
    def is_active(self, request: Any) -> bool:
        # Django masks only when DEBUG is off; a school's code is a secret on a developer's screen too.
        return True

    def _secrets(self, request: Any) -> list[str]:
        names = getattr(request, "sensitive_post_parameters", None) or []
        if names == "__ALL__" or request is None:
            return []
        return [value for name in names for value in request.POST.getlist(name) if value]

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        secrets = self._secrets(request)
        if not secrets:
            return variables
        masked = []
        for name, value in variables:
            try:
                text = repr(value)
            except Exception:  # an object whose repr breaks is not shown either
                text = secrets[0]
            masked.append((name, self.cleansed_substitute if any(s in text for s in secrets) else value))
        return masked
