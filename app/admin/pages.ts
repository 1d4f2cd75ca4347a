import type { DeadLetterJson, RedriveOutcome } from '../../sync-server/shared/admin.ts';
import { t } from '../i18n/i18n.ts';

// The dead-letter and audit lists as pages the server cuts (an opaque `next` cursor): the filter
// as a query string, and a redrive's outcomes folded into the pages already shown.

export const PAGE_SIZE = 100;
/** Letters per redrive request: a large selection goes as several. */
export const REDRIVE_BATCH = 100;

export const LETTER_STATUSES = ['open', 'resolved', 'all'] as const;
export type LetterStatus = (typeof LETTER_STATUSES)[number];

/** Times are as a datetime-local field gives them (the device's time); the rest as typed. */
export type LetterFilter = {
  readonly source: string;
  readonly reason: string;
  readonly from: string;
  readonly to: string;
  readonly status: LetterStatus;
};
export type AuditFilter = {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly from: string;
  readonly to: string;
};

export const NO_LETTER_FILTER: LetterFilter = { source: '', reason: '', from: '', to: '', status: 'open' };
export const NO_AUDIT_FILTER: AuditFilter = { actor: '', action: '', target: '', from: '', to: '' };

const TIME_FIELDS = new Set(['from', 'to']);

/** A datetime-local value as an ISO instant, or undefined when it is empty or not a time. */
export function instant(local: string): string | undefined {
  if (local.trim() === '') return undefined;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** The query string of one page: empty fields left out, times as ISO instants. */
export function pageQuery(
  filter: LetterFilter | AuditFilter,
  cursor: string | undefined,
  limit = PAGE_SIZE,
): string {
  const q = new URLSearchParams();
  for (const [name, raw] of Object.entries(filter) as [string, string][]) {
    const value = TIME_FIELDS.has(name) ? instant(raw) : raw.trim();
    if (value) q.set(name, value);
  }
  if (cursor) q.set('cursor', cursor);
  q.set('limit', String(limit));
  return q.toString();
}

/** The ids in batches of at most `size`, in order. */
export function batches<T>(items: readonly T[], size = REDRIVE_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A letter as a redrive left it, for the rows shown until the list is asked for again: redriven
 * (or found resolved meanwhile) is resolved; refused counts an attempt more and keeps its reason
 * with the new detail, as the server stores it (the outcome says the new reason).
 */
export function afterRedrive(
  letter: DeadLetterJson,
  o: RedriveOutcome | undefined,
  now: string,
): DeadLetterJson {
  if (!o || o.id !== letter.id) return letter;
  switch (o.outcome) {
    case 'redriven':
      return { ...letter, resolvedAt: now, resolution: 'redriven' };
    case 'already_resolved':
      return { ...letter, resolvedAt: letter.resolvedAt ?? now, resolution: letter.resolution ?? o.reason };
    case 'refused':
      return { ...letter, attempts: letter.attempts + 1, detail: o.message, lastSeen: now };
    default:
      return letter;
  }
}

/** What a redrive did to one letter, in words. */
export function outcomeText(o: RedriveOutcome): string {
  if (o.outcome === 'redriven') return t('outcome.redriven');
  if (o.outcome === 'refused') return t('outcome.refused', { reason: o.reason, message: o.message });
  const what = {
    not_found: t('outcome.notFound'),
    already_resolved: t('outcome.alreadyResolved'),
    not_redrivable: t('outcome.notRedrivable'),
  }[o.outcome];
  return t('outcome.other', { what, message: o.message });
}
