"""Deploy every diagram of the process pack (idempotent; a changed file gives a new version)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflows import conf
from workflows.exceptions import DeploymentRefused
from workflows.models import ProcessDefinition
from workflows.services.decisions import file_decisions
from workflows.services.definitions import definition_deploy, diagram_key, file_forms


class Command(BaseCommand):
    help = (
        "Deploy every .bpmn file under processes/bpmn/ (or the given files), with the forms "
        "and decision tables (processes/dmn/) they name."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="files or folders (default: the process pack)")
        parser.add_argument(
            "--over-modeler",
            action="store_true",
            help="deploy a file even when the procedure's latest version came from the modeler",
        )

    def handle(self, *args, paths, over_modeler, **options):
        files = []
        for entry in [Path(p) for p in paths] or [Path(d) for d in conf.get("PROCESS_DIRS")]:
            files += sorted(entry.glob("*.bpmn")) if entry.is_dir() else [entry]
        if not over_modeler:
            files = [path for path in files if not self._changed_in_modeler(path)]
        # Called processes must be deployed before their callers: retry the ones that wait.
        pending, failures = list(files), {}
        while pending:
            progressed, waiting = False, []
            for path in pending:
                try:
                    content = path.read_bytes()
                    # The files are the source here, forms and decision tables included.
                    deployment = definition_deploy(
                        content=content,
                        user=None,
                        forms=file_forms(content),
                        decisions=file_decisions(content),
                    )
                except DeploymentRefused as refused:
                    failures[path] = refused
                    waiting.append(path)
                    continue
                failures.pop(path, None)
                progressed = True
                d = deployment.definition
                verb = "deployed" if deployment.created else "unchanged"
                self.stdout.write(f"{verb:10} {d.key} v{d.version}  ({path.name})")
                self._warn(path, deployment.warnings)
            if not progressed:
                break
            pending = waiting
        if failures:
            for path, refused in failures.items():
                for p in refused.problems:
                    # A decision table's problem is at a line of its .dmn file.
                    name = f"{p.decision}.dmn" if p.decision else path.name
                    self.stderr.write(f"{name}:{p.line or '-'}: {p.element or '-'}: {p.message}")
            raise CommandError(f"{len(failures)} diagram(s) were not deployed")

    def _warn(self, path: Path, warnings) -> None:
        """What the modeling rules only warn about (deployed all the same)."""
        for w in warnings:
            self.stdout.write(f"  warning {path.name}:{w.line or '-'}: {w.element}: {w.message}")

    def _changed_in_modeler(self, path: Path) -> bool:
        """A procedure whose latest version a process owner deployed (in the modeler or the API)
        keeps it: the file would silently undo their change. ``export_processes`` writes it
        back to the file."""
        key = diagram_key(path.read_bytes())
        latest = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
        if latest is None or latest.deployed_by_id is None:
            return False
        self.stdout.write(
            f"{'kept':10} {key} v{latest.version}  (deployed by {latest.deployed_by}; "
            f"{path.name} not deployed over it: --over-modeler would)"
        )
        return True
