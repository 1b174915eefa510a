"""Signals other parts of the system listen to, so the registry does not import them."""

from django.dispatch import Signal

# Sent inside the transaction of a group refresh with ``child_ids`` (list[int]) and ``today`` (date): the facts
# of these children may have changed (visit cadence, risk and eligibility depend on them).
facts_changed = Signal()
