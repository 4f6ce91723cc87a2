"""Wiring the certificate renewal into the host: its start goes through the number check."""

from workflows import extensions

from . import services


def register() -> None:
    extensions.register_start_service(services.PROCESS_KEY, services.start_from_form)
