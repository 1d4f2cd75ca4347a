// What a failed statement says about the database, from the errors postgres.js raises on both
// backends (PGlite is reached through it too). Pure functions: the adapters and the services
// above them classify with these, and nowhere else.

/**
 * The database answered and refused the statement itself (postgres.js's PostgresError, which
 * carries a SQLSTATE): resending it as it is fails again. Anything else — a refused, reset,
 * timed-out or ended connection — means the database could not be reached.
 */
export const isRefused = (err: unknown): boolean =>
  (err as { name?: unknown } | null)?.name === 'PostgresError';

// Connection failures as Node (E…) and postgres.js (CONNECTION_…, CONNECT_TIMEOUT) name them.
const UNREACHABLE =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|CONNECT_TIMEOUT|CONNECTION_[A-Z_]+)$/;

/** The connection failed (by its code): the request may be retried once the database is back. */
export const isUnreachable = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE.test(code);
};
