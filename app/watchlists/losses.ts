import { t } from '../i18n/i18n.ts';

// Telling the trader why a watchlist vanished. Two things can say so, in either order: the open
// list's socket closing with 4403/4404, and a list refresh whose answer no longer has it. Each is
// noted here; the trader is told once per watchlist, by the most precise reason heard.

/**
 * Why a watchlist left this device: its socket's close code says unshared (4403) or deleted
 * (4404); the server's list only says it is gone (its 404 tells a stranger no more).
 */
export type LossReason = 'unshared' | 'deleted' | 'gone';

/** A watchlist that left this device, to be told to the trader. */
export interface Loss {
  readonly id: string;
  readonly name: string;
  readonly why: LossReason;
}

const PRECISION: Record<LossReason, number> = { gone: 0, unshared: 1, deleted: 2 };

/** `losses` with `loss` noted: each watchlist once, with the most precise reason heard so far. */
export function noteLoss(losses: readonly Loss[], loss: Loss): readonly Loss[] {
  const known = losses.find((l) => l.id === loss.id);
  if (!known) return [...losses, loss];
  if (PRECISION[loss.why] <= PRECISION[known.why]) return losses;
  return losses.map((l) => (l === known ? { ...known, why: loss.why } : l));
}

/** What to tell the trader about `losses`, by name, in the current language; undefined when nothing. */
export function lossText(losses: readonly Loss[]): string | undefined {
  if (losses.length === 0) return undefined;
  return [...losses]
    .sort((a, b) => a.name.localeCompare(b.name, 'pt-BR') || a.id.localeCompare(b.id))
    .map((l) => t(`wl.lost.${l.why}`, { name: l.name }))
    .join(' ');
}
