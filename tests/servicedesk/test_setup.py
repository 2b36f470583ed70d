"""Project wiring: migrations, deploy checks, the front-door policy."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:  # --check exits 1 when a migration is missing: fail this test only
        pytest.fail(f"models and migrations disagree:\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()


def test_check_deploy_with_production_settings_is_clean():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")} | {
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "SERVICEDESK_ENV_FILE": "",
        "DJANGO_SECRET_KEY": "k" * 20 + "Zq9!xR2@vB7#nM4$wL6%tY8^pK1&sD3*fG5(hJ0)",
        "DJANGO_ALLOWED_HOSTS": "desk.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")} | {
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "SERVICEDESK_ENV_FILE": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "url", "expected"),
    [
        ("requester", "/desk/", 403),
        ("requester", "/dashboards/", 403),
        ("requester", "/", 200),
        ("agent", "/desk/", 200),
        ("agent", "/dashboards/", 403),
        ("manager", "/dashboards/", 200),
        ("manager", "/desk/", 200),
    ],
)
def test_front_doors_admit_only_their_roles(client, request, persona, url, expected):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/desk/", "/dashboards/"])
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
