from __future__ import annotations

import os

os.environ.setdefault("KOPPELPUNT_ENV", "test")

from koppelpunt.msgfmt import compile_all  # noqa: E402

compile_all()
