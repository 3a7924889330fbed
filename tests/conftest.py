from __future__ import annotations

import os

os.environ.setdefault("KOPPELPUNT_ENV", "test")

from koppelpunt.msgfmt import compile_all  # noqa: E402

compile_all()

from hypothesis import settings as hypothesis_settings  # noqa: E402

# CI runs the property tests derandomized: the same examples every run, so a red build always means a change
# broke something, never that a new random example turned up. Developers run them randomized (the default).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
