"""Support access: Facito staff act inside an organisation only through a grant it approved.

A support engineer (or an operator) asks one organisation for access with a justification, a
ticket, a scope and a duration; the organisation's administrators approve or deny; a grant ends
by itself and can be revoked at any time. http/access.py:reach asks this domain for the grant in
force (lookups.py); every staff call inside an organisation is recorded on its audit chain and
listed as its access log (access_log.py).
"""
