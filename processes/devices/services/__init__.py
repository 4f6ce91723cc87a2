"""The assistive-device procedure's services, a module per stage."""
