"""The policy parameters: one typed, documented set of keys that statements and contracts set.

A privacy statement version gives every fixed key a value; a contract overrides any subset of
them (DESIGN: effective policy). Both are validated here, so an unknown key or an ill-typed
value is refused with a field error wherever it arrives. The values of the statement of
8 March 2019 are in :data:`STATEMENT_2019_VALUES`; where the statement names no figure, the value
is Facito's documented default and the parameter says so (``statement_figure=False``).

Adding a key: add it to :data:`PARAMETERS` (and a value to :data:`STATEMENT_2019_VALUES`); the
API documents, validates and resolves it from there. A key added once statement versions are
published gives a ``default`` instead: the value those versions imply (published versions never
change), which a later version may state and a contract may override like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .categories import CATEGORIES
from .regions import REGIONS, SUBPROCESSORS

PolicyValue = int | bool | list[str]


class ValueKind(StrEnum):
    Days = "days"
    Hours = "hours"
    Age = "age"
    Boolean = "boolean"
    Regions = "regions"
    Subprocessors = "subprocessors"
    Channels = "channels"


MARKETING_CHANNELS = ("email", "sms", "phone", "post")

# `retention.days.<data-category>`: one key per category of the catalogue (categories.py).
RETENTION_BY_CATEGORY_PREFIX = "retention.days."


@dataclass(frozen=True)
class PolicyParameter:
    key: str
    kind: ValueKind
    description: str
    minimum: int | None = None
    maximum: int | None = None
    # False when the statement names no figure and the value is Facito's documented default.
    statement_figure: bool = True
    # The value of a statement version that does not state the key (one published before the
    # key existed); None: every version must state it.
    default: PolicyValue | None = None

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The allowed members of a list value, or None for scalars."""
        return _CHOICES[self.kind]() if self.kind in _CHOICES else None


_CHOICES: dict[ValueKind, Callable[[], tuple[str, ...]]] = {
    ValueKind.Regions: lambda: tuple(sorted(REGIONS)),
    ValueKind.Subprocessors: lambda: tuple(sorted(SUBPROCESSORS)),
    ValueKind.Channels: lambda: MARKETING_CHANNELS,
}

_P = PolicyParameter
_K = ValueKind

PARAMETERS: dict[str, PolicyParameter] = {
    p.key: p
    for p in (
        _P(
            "dsr.response_days",
            _K.Days,
            "Days to answer a data-subject request (GDPR art. 12(3): one month).",
            1,
            30,
        ),
        _P(
            "dsr.max_extension_days",
            _K.Days,
            "Days a response may be extended by, with reasons (GDPR art. 12(3): two months).",
            0,
            60,
        ),
        _P(
            "retention.deleted_items_days",
            _K.Days,
            "Days a deleted item stays restorable before it is removed for good.",
            0,
            3650,
        ),
        _P(
            "retention.sensitive_max_days",
            _K.Days,
            "Longest retention of sensitive data (the statement: a shorter term, no figure).",
            1,
            36500,
            statement_figure=False,
        ),
        _P(
            "residency.allowed_regions",
            _K.Regions,
            "Regions where the organisation's data may be stored (primary and backup).",
        ),
        _P(
            "residency.eea_only",
            _K.Boolean,
            "Whether data must stay inside the European Economic Area.",
            statement_figure=False,
        ),
        _P(
            "subprocessors.allowed",
            _K.Subprocessors,
            "Subprocessors that may store the organisation's data.",
        ),
        _P(
            "advertising.interest_based",
            _K.Boolean,
            "Whether data may select interest-based advertisements (subjects can opt out).",
        ),
        _P(
            "advertising.partner_sharing",
            _K.Boolean,
            "Whether data may be shared with advertising partners.",
        ),
        _P(
            "marketing.default_channels",
            _K.Channels,
            "Promotional channels a subject receives until they choose (e-mail, SMS, phone, post).",
            statement_figure=False,
        ),
        _P(
            "children.consent_age",
            _K.Age,
            "Age below which a guardian must consent (GDPR art. 8: 13 to 16; NL 16).",
            13,
            16,
        ),
        _P(
            "notice.material_change_days",
            _K.Days,
            "Days between publishing a material statement change and its taking effect.",
            0,
            365,
            statement_figure=False,
        ),
        _P(
            "support_access.approval_required",
            _K.Boolean,
            "Whether a Facito support engineer needs the organisation's approval for access.",
            statement_figure=False,
        ),
        _P(
            "support_access.max_hours",
            _K.Hours,
            "Longest support access grant, in hours.",
            1,
            168,
            statement_figure=False,
        ),
        _P(
            "offboarding.return_days",
            _K.Days,
            "Days after offboarding in which the organisation may still read and export its "
            "data; then it is deleted, except what legal holds keep (GDPR art. 28(3)(g)).",
            1,
            365,
            statement_figure=False,
        ),
        _P(
            "accounts.verified_domains_only",
            _K.Boolean,
            "Whether account UPNs and e-mails must lie in the organisation's own verified "
            "domains (or their subdomains); directory sync skips users outside them.",
            statement_figure=False,
            default=False,
        ),
        _P(
            "audit.retention_days",
            _K.Days,
            "Days audit events are kept.",
            30,
            3650,
            statement_figure=False,
        ),
    )
}

# What a statement version that leaves a key out implies (policies/resolution.py applies it).
PARAMETER_DEFAULTS: dict[str, PolicyValue] = {
    key: parameter.default for key, parameter in PARAMETERS.items() if parameter.default is not None
}

RETENTION_BY_CATEGORY = PolicyParameter(
    RETENTION_BY_CATEGORY_PREFIX + "<data-category>",
    ValueKind.Days,
    "Days data of one category is kept (a key per category of GET /v1/data-categories; "
    "without one, the category's default retention applies).",
    1,
    36500,
    statement_figure=False,
)

# The statement of 8 March 2019: a reply within 30 days; deleted items stay at most 30 days;
# sensitive data is kept shorter; data lives at TransIP (Delft/Amsterdam) or in the Azure
# countries it lists, with transfers outside the EEA under safeguards; interest-based ads with an
# opt-out and sharing with advertising partners; subjects choose their promotional channels;
# parental consent below the age the jurisdiction sets (NL: 16); notice before material changes.
STATEMENT_2019_VALUES: dict[str, PolicyValue] = {
    "dsr.response_days": 30,
    "dsr.max_extension_days": 60,
    "retention.deleted_items_days": 30,
    "retention.sensitive_max_days": 365,
    "residency.allowed_regions": sorted(REGIONS),
    "residency.eea_only": False,
    "subprocessors.allowed": sorted(SUBPROCESSORS),
    "advertising.interest_based": True,
    "advertising.partner_sharing": True,
    "marketing.default_channels": [],
    "children.consent_age": 16,
    "notice.material_change_days": 30,
    "support_access.approval_required": True,
    "support_access.max_hours": 8,
    "audit.retention_days": 730,
    "offboarding.return_days": 30,
}


class PolicyValuesInvalid(ValueError):
    """Some keys or values are not valid policy parameters; ``errors`` maps key → messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items())))
        self.errors = errors


def parameter_for(key: str) -> PolicyParameter | None:
    """The parameter a key names, including the per-category retention keys."""
    if key in PARAMETERS:
        return PARAMETERS[key]
    if key.startswith(RETENTION_BY_CATEGORY_PREFIX):
        category = key.removeprefix(RETENTION_BY_CATEGORY_PREFIX)
        return RETENTION_BY_CATEGORY if category in CATEGORIES else None
    return None


def validate_policy_values(
    values: Mapping[str, Any], *, require_all: bool = False
) -> dict[str, PolicyValue]:
    """Checked, normalised values (lists sorted, without repeats); raises PolicyValuesInvalid.

    ``require_all`` is for a statement version, which must give every fixed key a value; a
    contract overrides any subset.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, PolicyValue] = {}
    for key, raw in values.items():
        parameter = parameter_for(key) if isinstance(key, str) else None
        if parameter is None:
            errors[str(key)] = ["Unknown policy parameter."]
            continue
        try:
            cleaned[key] = _checked(parameter, raw)
        except _BadValue as exc:
            errors[key] = [str(exc)]
    if require_all:
        for key in PARAMETERS.keys() - values.keys() - PARAMETER_DEFAULTS.keys():
            errors[key] = ["A statement must set every policy parameter."]
    if errors:
        raise PolicyValuesInvalid(errors)
    return cleaned


class _BadValue(Exception):
    """One value's problem, in words for the field error."""


def _checked(parameter: PolicyParameter, raw: Any) -> PolicyValue:
    if parameter.kind is ValueKind.Boolean:
        if not isinstance(raw, bool):
            raise _BadValue("Must be true or false.")
        return raw
    choices = parameter.choices
    if choices is not None:
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise _BadValue("Must be a list of strings.")
        unknown = sorted(set(raw) - set(choices))
        if unknown:
            raise _BadValue(f"Unknown {parameter.kind.value}: {', '.join(unknown)}.")
        if parameter.kind in (ValueKind.Regions, ValueKind.Subprocessors) and not raw:
            raise _BadValue(f"At least one of the {parameter.kind.value} must be allowed.")
        return sorted(set(raw))
    # bool is an int in Python; a JSON true is not a number of days.
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise _BadValue("Must be a whole number.")
    if parameter.minimum is not None and raw < parameter.minimum:
        raise _BadValue(f"Must be at least {parameter.minimum}.")
    if parameter.maximum is not None and raw > parameter.maximum:
        raise _BadValue(f"Must be at most {parameter.maximum}.")
    return raw
