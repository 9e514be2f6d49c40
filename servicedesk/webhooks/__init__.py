"""Provider webhooks: per-organisation integrations, their endpoints, and the Asterisk follower."""
