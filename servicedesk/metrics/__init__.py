"""KKiK / Servicemätning figures computed in the database (definitions: docs/metrics.md)."""
