"""Consents: each account's marketing, advertising and cookie preferences (an append-only
history), and the guardian consent a minor's account needs (GDPR art. 8)."""
