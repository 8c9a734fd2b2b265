"""Privacy: erasure of a person (``erase``), the tombstones that keep them erased
(``tombstones``), the audit log of exports of raw personal values and of erasures (``audit``).

Which columns are personal is declared once, in the table catalogue
(``cdp.tables.PERSONAL_COLUMNS``); those columns have no Delta statistics.
"""
