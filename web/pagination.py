from functools import cached_property

from django.core.paginator import Paginator


class CappedPaginator(Paginator):
    """Counts at most `cap` matching rows, so a huge table's count stays cheap.

    Past the cap the table says "5000+" and pages stop there: a filter or search narrows
    the list faster than paging through it ever would."""

    cap = 5_000

    @cached_property
    def count(self) -> int:
        # COUNT(*) over a LIMIT-ed subquery: stops reading after cap + 1 rows.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        return super().num_pages if not self.is_capped else -(-self.cap // self.per_page)
