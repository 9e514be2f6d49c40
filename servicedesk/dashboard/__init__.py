"""The dashboards: Today, Month (with drill-down), and their charts."""
