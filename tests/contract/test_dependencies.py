"""Every dependency the package declares is one its code uses: none is carried for nothing."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *(ROOT / "src" / "facito_admin").rglob("*.py"),
    ROOT / "wsgi.py",
    ROOT / "gunicorn.conf.py",
]
# Used without an import of our own, each with where it takes effect.
USED_INDIRECTLY = {
    "psycopg": "SQLAlchemy's postgresql+psycopg dialect loads it for FACITO_DATABASE_URL",
    "redis": "huey's RedisHuey and the `limits` Redis storage load it for redis:// URLs",
    "gunicorn": "the production server (`gunicorn wsgi:app`, gunicorn.conf.py)",
}


def _distribution(requirement: str) -> str:
    name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]
    return name.lower().replace("_", "-")


def _imported_distributions() -> set[str]:
    by_module = importlib.metadata.packages_distributions()
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                for distribution in by_module.get(name.split(".")[0], []):
                    found.add(distribution.lower().replace("_", "-"))
    return found


def test_every_declared_dependency_is_imported_or_says_where_it_is_used():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_distribution(requirement) for requirement in project["dependencies"]}
    unused = declared - _imported_distributions() - set(USED_INDIRECTLY)
    assert not unused, f"declared but imported by nothing: {sorted(unused)}"
    assert set(USED_INDIRECTLY) <= declared
