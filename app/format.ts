import { B3_UTC_OFFSET_MS } from '../sync-server/shared/market.ts';

// Money and times as a B3 desk reads them: reais in pt-BR, Brasília time whatever the device says.

export const reais = (cents: number) =>
  (cents / 100).toLocaleString('pt-BR', { style: 'currency', currency: 'BRL' });

export const price = (v: number | null, digits = 2) =>
  v === null
    ? '—'
    : v.toLocaleString('pt-BR', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const b3Time = (at: string | number) =>
  new Date(at).toLocaleTimeString('pt-BR', { timeZone: 'America/Sao_Paulo' });

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

/** "as of 10:32 (5 min ago)": the stamp on anything shown from the device's cache. */
export function age(ms: number, now = Date.now()): string {
  const mins = Math.floor((now - ms) / 60_000);
  const ago = mins < 1 ? 'just now' : mins < 60 ? `${mins} min ago` : `${Math.floor(mins / 60)} h ago`;
  return `as of ${b3Time(ms)} (${ago})`;
}

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
