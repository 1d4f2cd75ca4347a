// Money and times as a B3 desk reads them: reais in pt-BR, Brasília time whatever the device says.

export const reais = (cents: number) =>
  (cents / 100).toLocaleString('pt-BR', { style: 'currency', currency: 'BRL' });

export const price = (v: number | null, digits = 2) =>
  v === null
    ? '—'
    : v.toLocaleString('pt-BR', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const b3Time = (at: string | number) =>
  new Date(at).toLocaleTimeString('pt-BR', { timeZone: 'America/Sao_Paulo' });

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
