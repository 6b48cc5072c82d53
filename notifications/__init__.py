"""Channels, templates, outbox and dispatcher for alerts (see the deadlines issue)."""
