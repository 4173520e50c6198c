"""Rendering and delivery of the outbox (German templates, SMTP and file transports): see issue 3."""
