"""Customers > Summary, Add new > Customer and the customer card, by feature:

- ``filters``: the Summary's filters and the KPI money drill-downs' filters;
- ``forms``: the form's fields, rules and inline lists;
- ``editing``: create and edit (registry prefill, identifiers, duplicates, save);
- ``kpi_cards``: the KPI cards and their drill-down links;
- ``registry``: the registry magnifier and Refresh from the registry;
- ``view``: :class:`CustomerView`, the list and the card, made of the above.
"""

from .view import CARD_INVOICE_ROWS, CustomerView

__all__ = ["CARD_INVOICE_ROWS", "CustomerView"]
