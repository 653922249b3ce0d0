"""Directory sync: an organisation's accounts kept in step with its Entra ID directory (Graph).

graph.py talks to Microsoft Graph, mapping.py turns Graph users into account fields (pure),
apply.py writes one page of users to the accounts in bulk, tasks.py runs a sync as a
resumable job (and schedules them), service.py is what the API calls.
"""
