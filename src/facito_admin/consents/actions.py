"""The consents' audit actions: preferences and guardian consents (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class ConsentAction(StrEnum):
    PreferencesChange = "org:preferences:change"
    GuardianConsentRecord = "org:guardian-consent:record"
    GuardianConsentRevoke = "org:guardian-consent:revoke"
