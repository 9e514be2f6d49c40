"""The admin's settings pages: organisation, targets, closed days, queues, tokens, users."""
