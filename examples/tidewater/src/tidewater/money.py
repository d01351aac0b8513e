"""Money as integer minor units (cents). Never float.

See the decision ``money-is-integer-cents-b41a`` (2025-02). Every amount in tidewater is a
``Money`` or a plain ``int`` of cents plus a currency code; conversion from user input goes
through :func:`parse_amount`, which uses ``Decimal`` and refuses more precision than the
currency has.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents for the currencies Harbourline invoices in.
MINOR_UNITS: dict[str, int] = {"EUR": 2, "GBP": 2, "USD": 2, "SEK": 2, "JPY": 0}


class MoneyError(ValueError):
    """An amount could not be represented exactly in the given currency."""


@dataclass(frozen=True, order=True)
class Money:
    cents: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if not isinstance(self.cents, int):
            raise MoneyError(f"Money.cents must be an int, got {type(self.cents).__name__}")
        if self.currency not in MINOR_UNITS:
            raise MoneyError(f"unsupported currency {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def _check_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} and {other.currency}")

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(0, currency)

    def is_zero(self) -> bool:
        return self.cents == 0


def parse_amount(text: str, currency: str = "EUR") -> Money:
    """Parse ``"1234.50"`` into ``Money(123450, "EUR")``; reject ``"1.005"``."""
    exponent = MINOR_UNITS[currency]
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise MoneyError(f"not an amount: {text!r}") from exc
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{text!r} has more precision than {currency} allows")
    return Money(int(scaled), currency)


def multiply(amount: Money, quantity: Decimal) -> Money:
    """amount × quantity, rounded half-even to a whole cent (used for fractional hours)."""
    raw = Decimal(amount.cents) * quantity
    return Money(int(raw.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)), amount.currency)


def allocate(total: Money, weights: list[int]) -> list[Money]:
    """Split ``total`` by integer weights so the parts sum exactly to ``total``.

    Remainder cents go to the first parts, largest-remainder style.
    """
    if not weights or sum(weights) <= 0:
        raise MoneyError("allocate() needs positive weights")
    whole = sum(weights)
    parts = [total.cents * w // whole for w in weights]
    remainder = total.cents - sum(parts)
    for i in range(remainder):
        parts[i % len(parts)] += 1
    return [Money(p, total.currency) for p in parts]


def format_money(amount: Money) -> str:
    """Human display, e.g. ``EUR 1,234.50``. Display only: never parse this back."""
    exponent = MINOR_UNITS[amount.currency]
    value = Decimal(amount.cents).scaleb(-exponent)
    return f"{amount.currency} {value:,.{exponent}f}"
