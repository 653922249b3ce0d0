"""Notices Facito gives each organisation (a new statement version), and their acknowledgement."""
