"""Recreate the benchmark database named in DATABASE_URL (fresh for every run) and migrate it.
Refuses a database whose name does not contain "bench": it is dropped."""

import os
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
url = os.environ["DATABASE_URL"]
base, name = url.rsplit("/", 1)
if "bench" not in name:
    sys.exit(f"refusing to recreate {name!r}: benchmark databases have 'bench' in their name")
with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.execute(f'CREATE DATABASE "{name}"')
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
