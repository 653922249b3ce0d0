"""Privacy policy: statement versions, contracts, each organisation's effective policy,
residency and notices."""
