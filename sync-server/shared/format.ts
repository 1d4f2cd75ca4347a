// Prices as B3 writes them (pt-BR: `38,52`, `128.050`), one formatter for the app's screens and
// the server's sentences (a refusal that names a price says it the way the ticket does).

const PRICES = new Map<number, Intl.NumberFormat>();

/** `v` with `digits` decimals in pt-BR; an em dash for none. Formatters are made once per width. */
export function price(v: number | null, digits = 2): string {
  if (v === null) return '—';
  let f = PRICES.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('pt-BR', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    PRICES.set(digits, f);
  }
  return f.format(v);
}
