"""Contacts: one row per call or e-mail thread, folded from its events."""
