"""Audit actions of data-subject requests (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class RequestAction(StrEnum):
    File = "org:data-subject-request:file"
    # The same request filed again while one is open: linked to it, not doubled.
    Link = "org:data-subject-request:link"
    Verify = "org:data-subject-request:verify"
    Assign = "org:data-subject-request:assign"
    Extend = "org:data-subject-request:extend"
    AwaitSubject = "org:data-subject-request:await-subject"
    Resume = "org:data-subject-request:resume"
    Fulfil = "org:data-subject-request:fulfil"
    Complete = "org:data-subject-request:complete"
    Reject = "org:data-subject-request:reject"
    Cancel = "org:data-subject-request:cancel"
    # An access or portability export was written (export.py), downloaded, deleted on expiry.
    Export = "org:data-subject-request:export"
    DownloadExport = "org:data-subject-request:download-export"
    # The deadline scan told the organisation's systems (dsr.due_soon, dsr.overdue).
    DueSoon = "org:data-subject-request:due-soon"
    Overdue = "org:data-subject-request:overdue"
    # What a fulfilment job did (fulfilment/): one event each, naming fields and categories,
    # never their values (the chain is append-only: personal data there is never erased).
    Erase = "org:data-subject-request:erase"
    Rectify = "org:data-subject-request:rectify"
    Restrict = "org:data-subject-request:restrict"
    OptOut = "org:data-subject-request:opt-out"
    ExpireExport = "org:data-subject-request:expire-export"


class RestrictionAction(StrEnum):
    # A restriction of processing (art. 18) ends: the subject was told before (art. 18(3)).
    Lift = "org:processing-restriction:lift"


class FacitoRequestAction(StrEnum):
    File = "facito:data-subject-request:file"
    Link = "facito:data-subject-request:link"
    Verify = "facito:data-subject-request:verify"
    Assign = "facito:data-subject-request:assign"
    Extend = "facito:data-subject-request:extend"
    AwaitSubject = "facito:data-subject-request:await-subject"
    Resume = "facito:data-subject-request:resume"
    Complete = "facito:data-subject-request:complete"
    Reject = "facito:data-subject-request:reject"
    Cancel = "facito:data-subject-request:cancel"
    # The deadline scan's notices: the DPO queue has no webhooks, the chain is their record.
    DueSoon = "facito:data-subject-request:due-soon"
    Overdue = "facito:data-subject-request:overdue"
