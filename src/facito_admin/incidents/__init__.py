"""Incidents: security breaches Facito records and notifies to each affected organisation."""
