// What a failed statement says about the database, from the errors postgres.js raises on both
// backends (PGlite is reached through it too). Pure functions: the adapters and the services
// above them classify with these, and nowhere else.

/** A PostgresError's SQLSTATE ('' when it carries none); undefined for any other error. */
const sqlState = (err: unknown): string | undefined => {
  const e = err as { name?: unknown; code?: unknown } | null;
  if (e?.name !== 'PostgresError') return undefined;
  return typeof e.code === 'string' ? e.code : '';
};

/**
 * SQLSTATEs the server sends when it, not the statement, is the trouble: class 08 (connection
 * exception), 53300 (too many connections) and 57P01–57P03 (the backend terminated by an
 * admin or a shutdown, a crash restart, not accepting connections yet). The same statement
 * succeeds once the server is back.
 */
const SERVER_UNAVAILABLE = /^(08...|53300|57P0[123])$/;

/**
 * The database answered and refused the statement itself (postgres.js's PostgresError, which
 * carries a SQLSTATE): resending it as it is fails again. Anything else — a refused, reset,
 * timed-out or ended connection, a terminated backend — means the database could not be
 * reached.
 */
export const isRefused = (err: unknown): boolean => {
  const state = sqlState(err);
  return state !== undefined && !SERVER_UNAVAILABLE.test(state);
};

// Connection failures as Node (E…) and postgres.js (CONNECTION_…, CONNECT_TIMEOUT) name them.
const UNREACHABLE =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|CONNECT_TIMEOUT|CONNECTION_[A-Z_]+)$/;

/** The connection failed (by its code): the request may be retried once the database is back. */
export const isUnreachable = (err: unknown): boolean => {
  const state = sqlState(err);
  if (state !== undefined) return SERVER_UNAVAILABLE.test(state);
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE.test(code);
};

/** The statement broke a foreign key (23503): it names a row that does not exist. */
export const isForeignKeyViolation = (err: unknown): boolean => sqlState(err) === '23503';
