"""The process pack's extensions of the host, registered at start-up (WORKFLOWS HANDLER_MODULES).

Each procedure wires its service-task handlers, completion hooks and read rules in its own
``handlers.py``; this module calls them all.
"""

from .devices import handlers as devices
from .medication import handlers as medication
from .petitions import handlers as petitions
from .renewal import handlers as renewal

petitions.register()
medication.register()
devices.register()
renewal.register()
