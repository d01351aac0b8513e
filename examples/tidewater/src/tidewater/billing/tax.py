"""VAT for the countries Harbourline ships to.

Rates are in basis points (2000 = 20.00 %) so that tax stays integer arithmetic; the result is
rounded half-even to the cent once per invoice, not per line (Dana asked for this in March
2025 so our totals match their accounting package).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from tidewater.money import Money

# Standard VAT rates, basis points. Reduced rates are not used: freight is standard-rated.
VAT_RATES_BP: dict[str, int] = {
    "NL": 2100,
    "DE": 1900,
    "BE": 2100,
    "FR": 2000,
    "IE": 2300,
    "SE": 2500,
    "GB": 2000,
}


@dataclass(frozen=True)
class TaxRate:
    country: str
    basis_points: int
    reverse_charge: bool = False

    @property
    def label(self) -> str:
        if self.reverse_charge:
            return "VAT reverse-charged (art. 196 VAT Directive)"
        return f"VAT {self.basis_points / 100:.2f}%"


def vat_for(country: str, *, customer_vat_id: str | None, seller_country: str = "NL") -> TaxRate:
    """The VAT rate to apply for a customer in ``country``.

    B2B customers in another EU country with a VAT id are reverse-charged (0 %).
    """
    country = country.upper()
    if country not in VAT_RATES_BP:
        raise ValueError(f"no VAT rate configured for {country}")
    if customer_vat_id and country != seller_country and country != "GB":
        return TaxRate(country, 0, reverse_charge=True)
    return TaxRate(country, VAT_RATES_BP[country])


def compute_tax(subtotal: Money, rate: TaxRate) -> Money:
    """Tax on a subtotal, rounded half-even to a whole minor unit."""
    raw = Decimal(subtotal.cents) * Decimal(rate.basis_points) / Decimal(10_000)
    return Money(int(raw.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)), subtotal.currency)
