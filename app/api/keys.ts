/** Every TanStack Query key, from one factory: invalidation and WS pushes use the same keys. */
export const keys = {
  orders: () => ['orders'] as const,
  orderEvents: (id: number) => ['orders', id, 'events'] as const,
  fills: () => ['fills'] as const,
  positions: () => ['positions'] as const,
  brackets: () => ['brackets'] as const,
  candles: (ticker: string, tf: string) => ['candles', ticker, tf] as const,
  /** Every timeframe's candles of a ticker (a prefix of `candles`). */
  candlesOf: (ticker: string) => ['candles', ticker] as const,
  riskConfig: (account: string) => ['risk', account] as const,
  costs: (account: string) => ['admin', 'costs', account] as const,
  accounts: () => ['accounts'] as const,
  setup: () => ['setup'] as const,
  users: () => ['users'] as const,
  health: () => ['admin', 'health'] as const,
  deadLetters: (filter: object) => ['admin', 'deadLetters', filter] as const,
  audit: (filter: object) => ['admin', 'audit', filter] as const,
  /** The user's price and order alerts (app/alerts/); `alertsAll` is the prefix of the three. */
  alertsAll: () => ['alerts'] as const,
  alerts: () => ['alerts', 'list'] as const,
  alertHistory: () => ['alerts', 'history'] as const,
  alertSettings: () => ['alerts', 'settings'] as const,
  pushKey: () => ['push', 'key'] as const,
  pushDevices: () => ['push', 'devices'] as const,
};
