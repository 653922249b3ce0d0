"""Retention: legal holds, the periodic purge of what the effective policy no longer lets the
organisation keep, its preview, and the deletion certificates every purge leaves."""
