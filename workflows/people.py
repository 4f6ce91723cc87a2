"""How a staff member is named to people: by their name, not their login."""

from __future__ import annotations


def person_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
