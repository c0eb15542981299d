"""MiCA own funds of a crypto-asset service provider (Regulation (EU) 2023/1114 Art. 67):
pure calculations, Decimal in and out.

    requirement = max(permanent minimum capital of the class (Annex IV), FOR = fixed overheads / 4)
                  (Art. 67(1)(a), (b); FOR per Art. 67(3))
    own funds   = CET1 (Art. 67(4): own funds consist of CET1 items).
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from reports.capital.exact import exact


def fixed_overheads_requirement(fixed_overheads_annual: Decimal) -> Decimal:
    """A quarter of the fixed overheads of the preceding year (Art. 67(1)(b))."""
    with localcontext() as ctx:
        ctx.prec = 60
        return exact(fixed_overheads_annual / 4)


def requirement(class_minimum: Decimal, fixed_overheads: Decimal) -> Decimal:
    """max(class minimum, FOR)."""
    return exact(max(class_minimum, fixed_overheads))
