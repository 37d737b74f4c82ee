"""Named pipeline configs (`<name>.cfg`), loaded by `nlp_engine.load(name)`."""
