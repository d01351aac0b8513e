// Display helpers for integer-cent amounts. Formatting only: keep arithmetic in cents.

const MINOR_UNITS: Record<string, number> = { EUR: 2, GBP: 2, USD: 2, SEK: 2, JPY: 0 };

export function formatCents(cents: number, currency: string, locale = "nl-NL"): string {
  const exponent = MINOR_UNITS[currency] ?? 2;
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: exponent,
  }).format(cents / 10 ** exponent);
}

export function parseCents(input: string, currency: string): number {
  // "12,50" and "12.50" both mean 1250 cents in the dashboard's refund form.
  const exponent = MINOR_UNITS[currency] ?? 2;
  const normalised = input.trim().replace(",", ".");
  if (!/^\d+(\.\d{0,2})?$/.test(normalised)) throw new Error(`not an amount: ${input}`);
  const [whole = "0", fraction = ""] = normalised.split(".");
  return Number(whole) * 10 ** exponent + Number(fraction.padEnd(exponent, "0") || "0");
}
