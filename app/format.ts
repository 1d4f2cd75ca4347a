import { B3_UTC_OFFSET_MS } from '../sync-server/shared/market.ts';

// Money and times as a B3 desk reads them: reais in pt-BR, Brasília time whatever the device says.

// Intl formatters are made once and reused: toLocaleString with options builds one per call,
// and the quote board, the ladder and the tape format on every frame.
const BRL = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
export const reais = (cents: number) => BRL.format(cents / 100);

export { price } from '../sync-server/shared/format.ts';

/** Brasília HH:MM:SS, whatever the device says (b3TimeMs without the milliseconds). */
export const b3Time = (at: string | number) =>
  b3TimeMs(typeof at === 'number' ? at : new Date(at).getTime()).slice(0, 8);

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * A trade's time as Times & Trades shows it, Brasília HH:MM:SS.mmm. Plain arithmetic on B3's
 * fixed offset (no daylight saving since 2019), not Intl: it runs for every row that scrolls in.
 */
export function b3TimeMs(ms: number): string {
  const day = 86_400_000;
  const t = (((Math.floor(ms) + B3_UTC_OFFSET_MS) % day) + day) % day;
  const milli = t % 1000;
  const s = Math.floor(t / 1000);
  const frac = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`;
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.${frac}`;
}

const QUANTITY = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 0 });
/** A quantity as B3 writes it, "12.300" (one formatter, reused: tables call it per cell). */
export const quantity = (n: number) => QUANTITY.format(n);

/** Date and time in Brasília, short: "02/12/2026, 10:32". */
export const b3DateTime = (at: string | number) =>
  new Date(at).toLocaleString('pt-BR', {
    timeZone: 'America/Sao_Paulo',
    dateStyle: 'short',
    timeStyle: 'short',
  });

const REAIS_COMPACT = new Intl.NumberFormat('pt-BR', {
  style: 'currency',
  currency: 'BRL',
  notation: 'compact',
  minimumFractionDigits: 0,
  maximumFractionDigits: 1,
});
/** Reais at a glance, as a board shows a day's financial volume: "R$ 1,2 mi", "R$ 3,4 bi". */
export const reaisCompact = (reais: number | null) => (reais === null ? '—' : REAIS_COMPACT.format(reais));

/**
 * A price as a trader types it, pt-BR or not: "38,52" and "38.52" are both 38.52; "128.050,00"
 * and "1.234.567" group thousands with dots. The one ambiguous form, a lone dot before exactly
 * three digits ("128.050", "38.505"), is read the way that lands nearer `near` (the last price:
 * 128050 on WIN, 38.505 on PETR4); with no last price, as thousands when the instrument quotes
 * fewer than three decimals. The ticket shows how it read the text. "R$" and spaces are
 * ignored. NaN for anything else (two commas, letters, an empty field).
 */
export function parsePrice(text: string, priceDecimals = 2, near?: number): number {
  const s = text.replace(/R\$|\s/g, '');
  if (!/^[\d.,]*\d[\d.,]*$/.test(s)) return Number.NaN;
  const commas = s.split(',').length - 1;
  const dots = s.split('.').length - 1;
  let plain: string;
  if (commas > 1) return Number.NaN;
  if (commas === 1) {
    const [int = '', frac = ''] = s.split(',');
    if (dots > 0 && !/^\d{1,3}(\.\d{3})+$/.test(int)) return Number.NaN; // dots only as thousands
    if (frac.includes('.')) return Number.NaN;
    plain = `${int.replace(/\./g, '')}.${frac}`;
  } else if (dots > 1) {
    if (!/^\d{1,3}(\.\d{3})+$/.test(s)) return Number.NaN;
    plain = s.replace(/\./g, '');
  } else if (dots === 1 && /^\d{1,3}\.\d{3}$/.test(s)) {
    const thousands = Number(s.replace('.', ''));
    const decimal = Number(s);
    if (near !== undefined && near > 0 && decimal > 0)
      return Math.abs(Math.log(thousands / near)) < Math.abs(Math.log(decimal / near)) ? thousands : decimal;
    return priceDecimals < 3 ? thousands : decimal;
  } else plain = s;
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(plain)) return Number.NaN;
  return Number(plain);
}

/**
 * Reais as a trader types them, into centavos: "50.000,00", "50000", "R$ 1.234,5" and
 * "1234.50" alike (parsePrice's reading, two decimals); NaN for anything else or more than two
 * decimals. Money limits are typed in reais, never in centavos.
 */
export function parseReais(text: string): number {
  const v = parsePrice(text, 2);
  if (!Number.isFinite(v)) return Number.NaN;
  const cents = Math.round(v * 100);
  return Math.abs(cents - v * 100) < 1e-6 ? cents : Number.NaN;
}

/**
 * A rate typed in percent, pt-BR or not ("0,0230", "0.023 %"), into parts per million of the
 * amount (230): at most four decimals of a percent, so the rate is kept exactly; NaN otherwise.
 */
export function parsePercentPpm(text: string): number {
  const v = parsePrice(text.replace('%', ''), 4);
  if (!Number.isFinite(v)) return Number.NaN;
  const ppm = Math.round(v * 10_000);
  return Math.abs(ppm - v * 10_000) < 1e-6 ? ppm : Number.NaN;
}

/** Parts per million as a percent to read or edit: 230 → "0,0230". */
export const percentOfPpm = (ppm: number) =>
  (ppm / 10_000).toLocaleString('pt-BR', { minimumFractionDigits: 4, maximumFractionDigits: 4 });

/** Reais from centavos as the input shows them to edit: "50.000,00". */
export const reaisInput = (cents: number) =>
  (cents / 100).toLocaleString('pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A Brasília clock time HH:MM, whatever the device's time zone ("offline since"). */
export const b3HourMinute = (at: string | number) =>
  new Date(at).toLocaleTimeString('pt-BR', {
    timeZone: 'America/Sao_Paulo',
    hour: '2-digit',
    minute: '2-digit',
  });
