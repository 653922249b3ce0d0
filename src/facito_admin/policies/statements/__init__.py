"""Versions of Facito's privacy statement: drafts, publication, change log, comparisons."""
