"""Privacy (GDPR): retention per organisation, erasure of one person, pseudonym key rotation."""
