"""Money: Decimal yuan in the domain, whole fen (分) in process variables.

SpiffWorkflow's task data holds JSON, which has no decimal type, and floats would lose cents;
the DMN tables therefore compute in integer fen, and every amount is converted here, exactly."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_fen(amount: Decimal) -> int:
    return int((Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())


def from_fen(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(CENT)


def parse_yuan(value) -> Decimal | None:
    """A positive amount of yuan with at most two decimals, or None."""
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        return None
    return amount


def yuan(amount: Decimal | None) -> str:
    """``12,345.60`` — how amounts are shown."""
    return f"{Decimal(amount or 0).quantize(CENT):,}"
