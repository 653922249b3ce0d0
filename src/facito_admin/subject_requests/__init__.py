"""Data-subject requests (GDPR art. 12-22): intake, routing, deadlines, fulfilment, decisions.

For an organisation-managed account the organisation is the controller and Facito assists as
processor (art. 28(3)(e)): such requests land in the organisation's queue. Requests of personal
accounts, and the part of a request about data Facito controls itself, land in Facito's DPO
queue. routing.py decides which (pure); deadlines.py computes the clock (pure); lifecycle.py
says which status may follow which (pure); the services apply them.
"""
