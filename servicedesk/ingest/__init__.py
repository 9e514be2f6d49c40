"""Ingest: deliveries in, canonical events stored, contacts folded."""
