"""Writing results: JSONL and SQLite writers over the one result model."""
