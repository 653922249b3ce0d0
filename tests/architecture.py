"""An import-linter contract of our own: the domains, named by what they are not.

import-linter's own contracts name every package they constrain, so a list of the domains
would have to grow with each new one. ``domains`` names the kernel (the HTTP edge included)
and the composition root instead, and takes every other top-level module or package of the
root package for a domain. Then:

- the kernel imports no domain (a protocol registers with the edge instead: http/protocols.py);
- no domain imports the composition root (it imports them);
- a domain reaches another only through its public modules: a module that is not named public
  may be imported only by its own domain and by the composition root. Every module is private
  unless named, so a new module is private until someone decides otherwise.

Which of the kernel and the composition root imports which is the layers contract's business
(pyproject.toml: [tool.importlinter]). Direct imports are enough: an indirect chain from the
kernel to a domain needs a direct one from the kernel, or one through the composition root,
which the layers contract forbids.
"""

from __future__ import annotations

from typing import Any

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain import helpers

_KERNEL_IMPORTS_DOMAIN = "the kernel imports no domain; let the domain register with it"
_DOMAIN_IMPORTS_ROOT = "no domain imports the composition root"
_PRIVATE = "not public; use the domain's public modules, or make this one public"


class DomainsContract(Contract):
    type_name = "domains"

    # Top-level modules below the domains: the HTTP edge and the kernel.
    kernel = fields.ListField(subfield=fields.ModuleField())
    # Top-level modules above them, which put the app together and may import anything.
    composition_root = fields.ListField(subfield=fields.ModuleField())
    # Modules other domains may import (wildcards allowed: `facito_admin.*.models`). Each
    # domain's package itself (its `__init__`) is public too.
    public = fields.ListField(subfield=fields.ModuleExpressionField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        kernel = {module.name for module in self.kernel}
        root_modules = {module.name for module in self.composition_root}
        public = {
            module.name
            for module in helpers.module_expressions_to_modules(graph, self.public)  # type: ignore[arg-type]
        }
        children: set[str] = set()
        for package in self.session_options["root_packages"]:
            children |= graph.find_children(package)
        # A name that is not a top-level module would silently make nothing kernel or root.
        violations: list[dict[str, Any]] = [
            {"importer": name, "imported": None, "lines": [], "rule": "no such top-level module"}
            for name in sorted((kernel | root_modules) - children)
        ]
        domains = children - kernel - root_modules

        def top(name: str) -> str:
            return ".".join(name.split(".")[:2])

        for importer in sorted(graph.modules):
            importer_top = top(importer)
            if importer_top not in kernel and importer_top not in domains:
                continue  # the composition root, or outside the root package
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                imported_top = top(imported)
                if importer_top in kernel:
                    rule = _KERNEL_IMPORTS_DOMAIN if imported_top in domains else None
                elif imported_top in root_modules:
                    rule = _DOMAIN_IMPORTS_ROOT
                elif (
                    imported_top in domains
                    and imported_top != importer_top
                    and imported not in public | {imported_top}
                ):
                    rule = _PRIVATE
                else:
                    rule = None
                if rule is not None:
                    details = graph.get_import_details(importer=importer, imported=imported)
                    violations.append(
                        {
                            "importer": importer,
                            "imported": imported,
                            "lines": [detail["line_number"] for detail in details],
                            "rule": rule,
                        }
                    )
        return ContractCheck(kept=not violations, warnings=[], metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            if violation["imported"] is None:
                output.print_error(f"{violation['importer']}: {violation['rule']}")
            else:
                lines = ", ".join(str(line) for line in violation["lines"])
                output.print_error(
                    f"{violation['importer']} -> {violation['imported']} (l.{lines}): "
                    f"{violation['rule']}"
                )
            output.new_line()
