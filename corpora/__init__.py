"""Readers that yield documents from folders and files, and the bundled sample reports."""
