"""``{{ text|masked }}``: personal numbers in any text masked, by ``registry.masking``'s rules
(import reports, messages that quote what a clerk typed)."""

from django import template

from ..masking import mask_text

register = template.Library()


@register.filter
def masked(value):
    """Text (or a message, a lazy string) with its personal numbers masked."""
    if value is None or isinstance(value, int | float | bool):
        return value
    return mask_text(str(value))


@register.filter
def get_number(numbers: list, pk):
    """A revealed number by its row's id (``revealed.certificates|get_number:c.pk``)."""
    return next((n["number"] for n in numbers or [] if n["id"] == pk), "")
