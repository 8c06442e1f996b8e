"""envoywatch web: the dashboard pages and the REST API (envoywatch serve); see docs/web.md."""
