"""Audit log retention: the periodic job that prunes each organisation's log past its retention.

The pruning itself (and the checkpoint that keeps the rest verifiable) is audit/pruning.py;
this package only schedules it, because it needs the jobs and the effective policy, and both
of those import audit.
"""
