import type { AlertJson } from '../../sync-server/shared/alerts.ts';

// Tests only: an alert as the server lists it, PETR4 above 38,50 for the session, with any
// field changed.

export const alertJson = (fields: Partial<AlertJson> = {}): AlertJson => ({
  id: 9,
  clientId: null,
  kind: 'price_above',
  ticker: 'PETR4',
  threshold: 38.5,
  orderEvents: null,
  repeat: false,
  cooldownS: 0,
  expiry: { kind: 'session', at: '2026-12-02T21:30:00.000Z' },
  status: 'active',
  note: null,
  createdAt: '2026-12-02T13:00:00.000Z',
  updatedAt: '2026-12-02T13:00:00.000Z',
  lastFiredAt: null,
  fired: 0,
  ...fields,
});
