"""National comparison: Kolada KPI values for the organisation and the nation, cached."""
