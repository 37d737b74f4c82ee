"""Terminologies and rule files (JSONL), loaded with `importlib.resources`; see `vocab/README.md`."""
