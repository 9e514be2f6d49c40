"""Organisations (municipalities), their queues and their own closed days."""
