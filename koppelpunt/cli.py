"""The `koppelpunt` console script.

Our own subcommands are Django management commands; a few are renamed so that the CLI reads naturally
(`koppelpunt check URL` is the UWLR conformance checker, not Django's system check, which stays available
as `koppelpunt django-check`).
"""

from __future__ import annotations

import os
import sys

ALIASES = {
    "check": "uwlr_check",
    "django-check": "check",
    "worker": "worker",
    "rotate-pepper": "rotate_pepper",
}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koppelpunt.settings")
    from django.core.management import execute_from_command_line

    if not args or args[0] in {"-h", "--help", "help"}:
        print(
            "usage: koppelpunt <command> [options]\n\n"
            "  demo            migrate, seed a demo school and application, and serve them\n"
            "  check URL ...   conformance check of a UWLR Leerlinggegevens endpoint\n"
            "  sync            run the nightly sync now\n"
            "  worker          run a background worker\n"
            "  rotate-pepper   re-key stored verification codes under a new pepper\n"
            "  <django command> any Django management command (migrate, createsuperuser, ...)"
        )
        return
    args[0] = ALIASES.get(args[0], args[0])
    execute_from_command_line(["koppelpunt", *args])


if __name__ == "__main__":
    main()
