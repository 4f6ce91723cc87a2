"""The front door's first step: ``migrate`` on a brand-new database, with every system check on.

pytest creates its own database with the checks off, so without these tests a check that reads a
table before ``migrate`` has created it would shut ``make run`` unnoticed. Each test migrates in
a process of its own whose default database is the new one, as ``make run`` does, with the real
process pack and the run's settings."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from django.conf import settings

MIGRATE_WITH_CHECKS = """
import django
from django.core.management import call_command
django.setup()
call_command("migrate", interactive=False, verbosity=0, skip_checks=False)
call_command("check", databases=["default"], fail_level="ERROR")
from django.db import connection
with connection.cursor() as cursor:
    assert "workflows_processdefinition" in connection.introspection.table_names(cursor)
print("migrated")
"""


def _migrate_in_a_new_process(database_url: str, var_dir) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url,
        "FUZHU_VAR_DIR": str(var_dir),
    }
    return subprocess.run(
        [sys.executable, "-c", MIGRATE_WITH_CHECKS],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_migrate_on_a_new_sqlite_file_passes_every_check(tmp_path):
    done = _migrate_in_a_new_process(f"sqlite:///{tmp_path / 'new.sqlite3'}", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("migrated")


@pytest.mark.postgres
def test_migrate_on_a_new_postgresql_database_passes_every_check(tmp_path):
    server = settings.DATABASES["default"]
    name = f"fuzhu_fresh_{uuid.uuid4().hex[:10]}"
    params = {
        "host": server["HOST"] or None,
        "port": server["PORT"] or None,
        "user": server["USER"] or None,
        "password": server["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        user = server["USER"] or "postgres"
        url = f"postgresql://{user}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/{name}"
        done = _migrate_in_a_new_process(url, tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip().endswith("migrated")
    finally:
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
