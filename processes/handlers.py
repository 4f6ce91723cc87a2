"""Service-task handlers of the process pack, registered under the topic diagrams use.

Each procedure's handlers live beside its domain module and are imported here so that the
host's handler registry knows them at start-up.
"""
