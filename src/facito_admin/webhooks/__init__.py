"""Webhooks: organisations register HTTPS endpoints and receive signed events (Standard Webhooks).

Other domains publish events with :func:`facito_admin.webhooks.events.publish_event` inside
their own transaction; every enabled endpoint of the organisation subscribed to the event's
type gets a delivery row, and its first attempt is a job sent after the commit. The event
types are one StrEnum (events.py); a later issue adds a type there and publishes it.
"""
