"""Settings come from the environment; bad values must stop start-up with a message that says what to fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _django(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Test fixtures may set DJANGO_ALLOW_ASYNC_UNSAFE for the browser tests; a deployment never has it.
    skip = ("KOPPELPUNT_", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    base.update({"KOPPELPUNT_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "koppelpunt.settings"})
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "koppelpunt.cli", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KOPPELPUNT_ENV": "staging"}, "KOPPELPUNT_ENV must be development, production or test"),
        ({"KOPPELPUNT_DEBUG": "maybe"}, "KOPPELPUNT_DEBUG must be a boolean"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must start with postgres://"),
        ({"KOPPELPUNT_QUEUE_URL": "amqp://x"}, "KOPPELPUNT_QUEUE_URL must be redis://"),
        ({"KOPPELPUNT_EMAIL_PORT": "twenty-five"}, "KOPPELPUNT_EMAIL_PORT must be a whole number"),
        ({"KOPPELPUNT_ENV": "production", "KOPPELPUNT_ALLOWED_HOSTS": "x.nl"}, "KOPPELPUNT_SECRET_KEY must be set"),
    ],
)
def test_bad_settings_stop_with_a_clear_message(env: dict[str, str], message: str, tmp_path: Path) -> None:
    result = _django(["django-check"], env, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_pass_the_deployment_check(tmp_path: Path) -> None:
    env = {
        "KOPPELPUNT_ENV": "production",
        "KOPPELPUNT_ALLOWED_HOSTS": "koppelpunt.example.nl",
        "KOPPELPUNT_SECRET_KEY": "x" * 30 + "-production-secret-key-of-decent-length-9f8e7d",
        "KOPPELPUNT_KEY_PEPPER": "pepper-" + "p" * 40,
        "KOPPELPUNT_FIELD_ENCRYPTION_KEY": "field-" + "f" * 40,
    }
    result = _django(["django-check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
