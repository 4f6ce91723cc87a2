"""Write procedures changed in the modeler back to the process pack's files.

The files under ``processes/bpmn/`` (and ``processes/forms/``, ``processes/dmn/``) are the
source of a fresh install; what process owners deploy lives in the database. This command
writes the latest version of each procedure a person deployed (or every procedure, ``--all``)
to the files, its forms and decision tables too, so the change can be committed and a fresh
install starts from it.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflows import conf
from workflows.models import ProcessDefinition
from workflows.services.decisions import decision_files


class Command(BaseCommand):
    help = "Export the latest deployed versions (diagrams, their forms and tables) to files."

    def add_arguments(self, parser):
        parser.add_argument("keys", nargs="*", help="procedures to export (default: all changed)")
        parser.add_argument("--bpmn-dir", help="where the diagrams go (default: PROCESS_DIRS[0])")
        parser.add_argument("--forms-dir", help="where the forms go (default: FORM_DIRS[0])")
        parser.add_argument(
            "--dmn-dir",
            help="where the decision tables go (default: the file that holds the decision, "
            "else DMN_DIRS[0])",
        )
        parser.add_argument(
            "--all", action="store_true", help="also procedures only ever deployed from files"
        )

    def handle(self, *args, keys, bpmn_dir, forms_dir, dmn_dir, all, **options):
        bpmn_dir = Path(bpmn_dir or conf.get("PROCESS_DIRS")[0])
        forms_dir = Path(forms_dir or conf.form_dirs()[0])
        latest: dict[str, ProcessDefinition] = {}
        for definition in ProcessDefinition.objects.order_by("key", "-version"):
            latest.setdefault(definition.key, definition)
        unknown = sorted(set(keys) - set(latest))
        if unknown:
            raise CommandError(f"no deployed procedure: {', '.join(unknown)}")
        chosen = [latest[k] for k in keys] if keys else list(latest.values())
        if not keys and not all:
            chosen = [d for d in chosen if d.deployed_by_id is not None]
        bpmn_dir.mkdir(parents=True, exist_ok=True)
        forms_dir.mkdir(parents=True, exist_ok=True)
        for definition in chosen:
            path = bpmn_dir / f"{definition.key}.bpmn"
            path.write_text(definition.bpmn_xml, encoding="utf-8")
            self.stdout.write(f"wrote {path}  ({definition.key} v{definition.version})")
            for name, schema in sorted(definition.forms.items()):
                form_path = forms_dir / f"{name}.form"
                text = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
                form_path.write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote {form_path}")
            for decision, xml in sorted(definition.decisions.items()):
                dmn_path = self._dmn_path(decision, dmn_dir)
                dmn_path.parent.mkdir(parents=True, exist_ok=True)
                dmn_path.write_text(xml, encoding="utf-8")
                self.stdout.write(f"wrote {dmn_path}")
        if not chosen:
            self.stdout.write("nothing to export: no procedure was deployed by a person")

    def _dmn_path(self, decision: str, dmn_dir: str | None) -> Path:
        """Over the file that holds the decision now (another file with the same decision
        would make both unusable), else ``<decision>.dmn``."""
        if dmn_dir:
            return Path(dmn_dir) / f"{decision}.dmn"
        existing = decision_files().paths.get(decision)
        if existing is not None:
            return existing
        dirs = conf.dmn_dirs()
        if not dirs:
            raise CommandError("DMN_DIRS is empty: name a folder for the tables with --dmn-dir")
        return dirs[0] / f"{decision}.dmn"
