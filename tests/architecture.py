"""An import-linter contract of our own: domains reach each other only through public modules.

import-linter's own contracts say which packages may import which; none says "this package,
but only these of its modules". ``public_surface`` does: for each listed domain, a module of it
that is not public may be imported only by the domain itself and by the composition root.
Every module is private unless named, so a new module is private until someone decides
otherwise (pyproject.toml: [tool.importlinter]).
"""

from __future__ import annotations

from typing import Any

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain import helpers


class PublicSurfaceContract(Contract):
    type_name = "public_surface"

    domains = fields.ListField(subfield=fields.ModuleExpressionField())
    # Modules other domains may import (wildcards allowed: `facito_admin.*.models`). Each
    # domain's package itself (its `__init__`) is public too.
    public = fields.ListField(subfield=fields.ModuleExpressionField())
    # Importers that may use anything (the composition root: app factory, bootstrap, CLI).
    allowed_importers = fields.ListField(subfield=fields.ModuleExpressionField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        domains = {
            module.name
            for module in helpers.module_expressions_to_modules(graph, self.domains)  # type: ignore[arg-type]
        }
        public = {
            module.name
            for module in helpers.module_expressions_to_modules(graph, self.public)  # type: ignore[arg-type]
        }
        allowed = {
            module.name
            for module in helpers.module_expressions_to_modules(
                graph,
                self.allowed_importers,  # type: ignore[arg-type]
                as_packages=True,
            )
        }
        violations: list[dict[str, Any]] = []
        for domain in sorted(domains):
            members = {domain} | graph.find_descendants(domain)
            for module in sorted(members - public - {domain}):
                for importer in sorted(graph.find_modules_that_directly_import(module)):
                    if importer in members or importer in allowed:
                        continue
                    details = graph.get_import_details(importer=importer, imported=module)
                    violations.append(
                        {
                            "importer": importer,
                            "imported": module,
                            "lines": [detail["line_number"] for detail in details],
                        }
                    )
        return ContractCheck(kept=not violations, warnings=[], metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            lines = ", ".join(str(line) for line in violation["lines"])
            output.print_error(
                f"{violation['importer']} -> {violation['imported']} (l.{lines}): "
                "not public; use the domain's public modules, or make this one public"
            )
            output.new_line()
