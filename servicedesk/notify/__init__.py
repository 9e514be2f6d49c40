"""Notifying outside endpoints (webhooks, Teams, Slack) when a monthly report is frozen."""
