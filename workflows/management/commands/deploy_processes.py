"""Deploy every diagram of the process pack (idempotent; a changed file gives a new version)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflows import conf
from workflows.exceptions import DeploymentRefused
from workflows.services.definitions import definition_deploy


class Command(BaseCommand):
    help = "Deploy every .bpmn file under processes/bpmn/ (or the given files)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="files or folders (default: the process pack)")

    def handle(self, *args, paths, **options):
        files = []
        for entry in [Path(p) for p in paths] or [Path(d) for d in conf.get("PROCESS_DIRS")]:
            files += sorted(entry.glob("*.bpmn")) if entry.is_dir() else [entry]
        # Called processes must be deployed before their callers: retry the ones that wait.
        pending, failures = list(files), {}
        while pending:
            progressed, waiting = False, []
            for path in pending:
                try:
                    deployment = definition_deploy(content=path.read_bytes(), user=None)
                except DeploymentRefused as refused:
                    failures[path] = refused
                    waiting.append(path)
                    continue
                failures.pop(path, None)
                progressed = True
                d = deployment.definition
                verb = "deployed" if deployment.created else "unchanged"
                self.stdout.write(f"{verb:10} {d.key} v{d.version}  ({path.name})")
            if not progressed:
                break
            pending = waiting
        if failures:
            for path, refused in failures.items():
                for p in refused.problems:
                    self.stderr.write(
                        f"{path.name}:{p.line or '-'}: {p.element or '-'}: {p.message}"
                    )
            raise CommandError(f"{len(failures)} diagram(s) were not deployed")
