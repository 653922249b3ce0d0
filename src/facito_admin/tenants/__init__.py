"""The tenants: organisations, their Entra federations and e-mail domains, as rows.

Every domain hangs off these tables, so they sit below all of them; the organisations domain
(organisations/) onboards and manages them through the API.
"""
