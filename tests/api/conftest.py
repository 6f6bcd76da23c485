"""API fixtures (new_key, api) live in tests/conftest.py, shared with the job tests."""
