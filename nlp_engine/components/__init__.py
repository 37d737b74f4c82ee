"""spaCy components of the clinical pipeline; each module registers its factory on import."""
