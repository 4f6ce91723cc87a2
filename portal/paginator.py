"""Pages over lists too long to count: counting stops after ``cap + 1`` rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from workflows.selectors.inbox import COUNT_CAP, capped_count


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``cap + 1`` (``capped`` then says there are more).

    ``known_count``: a count the page already has (the inbox's tab counts), saving a query."""

    def __init__(self, object_list, per_page, *, cap: int = COUNT_CAP, known_count=None):
        super().__init__(object_list, per_page)
        self.cap = cap
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        return capped_count(self.object_list, self.cap)

    @property
    def capped(self) -> bool:
        return self.count > self.cap
