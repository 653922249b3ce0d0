"""The retention domain's audit actions: legal holds, runs and purges (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class RetentionAction(StrEnum):
    LegalHoldPlace = "org:legal-hold:place"
    LegalHoldRelease = "org:legal-hold:release"
    # Someone started a retention run by hand (the periodic scan records nothing).
    RetentionRunStart = "org:retention-run:start"
    # A purge finished and wrote its deletion certificate (retention run or account purge).
    DeletionCertify = "org:deletion-certificate:create"
