"""A task worker started by the test suite: the test settings with the real database queue."""

from portal.settings_test import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
