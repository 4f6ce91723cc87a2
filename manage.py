#!/usr/bin/env python
"""Django's command-line utility for Fuzhu."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.management import execute_from_command_line

    from workflows.audit_origin import audit_origin

    # What a command changes is recorded as coming from the command line (the web server's
    # requests and the job runner set their own origin).
    with audit_origin("command"):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
