"""A custom import-linter contract: some Qt modules are off limits to some layers.

import-linter's own ``forbidden`` contract can only name an external package as a whole
(``PySide6``); ``devices`` and ``sync`` may use ``PySide6.QtCore`` (threads, QSerialPort,
signals) but never ``QtWidgets`` or ``QtGui``. This contract reads the import lines grimp
recorded for every import of ``PySide6`` from the source packages and refuses the named
submodules.
"""

from __future__ import annotations

import re

from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class ForbiddenSubmodulesContract(Contract):
    source_modules = fields.ListField(subfield=fields.StringField())
    external_package = fields.StringField()
    forbidden_submodules = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:  # noqa: ARG002
        pattern = re.compile(
            rf"\b{re.escape(self.external_package)}\s*\.\s*({'|'.join(map(re.escape, self.forbidden_submodules))})\b"
            rf"|from\s+{re.escape(self.external_package)}\s+import\s+[^#\n]*\b({'|'.join(map(re.escape, self.forbidden_submodules))})\b"
        )
        offences: list[str] = []
        for source in self.source_modules:
            modules = {source} | set(graph.find_descendants(source))
            for module in sorted(modules):
                if self.external_package not in graph.find_modules_directly_imported_by(module):
                    continue
                for detail in graph.get_import_details(importer=module, imported=self.external_package):
                    if pattern.search(detail["line_contents"]):
                        offences.append(f"{module}:{detail['line_number']}: {detail['line_contents']}")
        return ContractCheck(kept=not offences, metadata={"offences": offences})

    def render_broken_contract(self, check: ContractCheck) -> None:
        from importlinter.application import output

        for line in check.metadata["offences"]:
            output.print_error(line)
