"""Signed checkpoints of the audit chains, given to each organisation to keep.

Signing, storing and checking them is audit/checkpoints.py and audit/verification.py; this
package makes them on request and daily and delivers each as an `audit.checkpoint` webhook,
because it needs the webhooks and the jobs, and both of those import audit.
"""
