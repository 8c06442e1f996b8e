"""Archive importers: platform-independent formats (takedown CSV, generic CSV/JSON with a column map) and the runner."""
