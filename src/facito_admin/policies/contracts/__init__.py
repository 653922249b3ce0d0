"""Contracts between an organisation and Facito: products, roles and policy overrides."""
