"""Fulfilment jobs of the organisation's requests: one module per job kind (service.py:
FULFILMENT_JOBS), each registered with ``@job_handler`` and listed in domains.py.

Every handler reads ``params["request_id"]``, loads the request in the job's tenant session
(base.load_request), does its work in steps that are safe to redo, and ends with
base.finish: what it did in ``request.results[<kind>]``, one timeline entry, one audit
event; then the art. 19 webhook where the kind has one. The request stays ``in_progress``:
the handler reads the results and answers the subject (complete, with a summary).
"""
