import pino, { type Logger } from 'pino';

export type { Logger };

// Paths that may carry secrets are censored wherever they appear in a log line.
const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'secret',
  '*.secret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { service: 'tape' }, redact: { paths: REDACT, censor: '[redacted]' } },
    destination,
  );
}
