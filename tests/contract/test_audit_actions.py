"""Audit actions live with their domain (`<domain>/actions.py`); here they are read as one set.

The values are stored in the audit chains and filtered on by clients: they keep the grammar
`scope:resource:action`, and one value never means two things.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
from collections import Counter
from enum import StrEnum

import facito_admin
from facito_admin.domains import DOMAINS, ROOT

ACTION = re.compile(r"^(org|facito):[a-z0-9-]+:[a-z0-9-]+$")


def _action_enums() -> list[type[StrEnum]]:
    """Every StrEnum defined in the `actions` module of a domain listed in domains.py."""
    enums: list[type[StrEnum]] = []
    for domain in DOMAINS:
        name = f"{ROOT}.{domain.package}.actions"
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        enums += [
            value
            for value in vars(module).values()
            if inspect.isclass(value) and issubclass(value, StrEnum) and value.__module__ == name
        ]
    return enums


def _actions() -> list[str]:
    # __members__ keeps aliases: a value repeated within one enum is counted twice too.
    return [member.value for enum in _action_enums() for member in enum.__members__.values()]


def test_every_actions_module_is_the_top_level_one_of_a_listed_domain():
    everywhere = {
        info.name
        for info in pkgutil.walk_packages(facito_admin.__path__, f"{ROOT}.")
        if info.name.endswith(".actions")
    }
    collected = {enum.__module__ for enum in _action_enums()}
    assert collected
    assert everywhere == collected, "actions.py at the top of a domain listed in domains.py"


def test_every_audit_action_reads_scope_resource_action():
    assert [action for action in _actions() if not ACTION.match(action)] == []


def test_no_two_audit_actions_share_a_value():
    assert [action for action, n in Counter(_actions()).items() if n > 1] == []
