import { isAbsolute } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Config, ConfigError, loadConfig } from './config.ts';

// The environment is untrusted text too: for any map of variables, loadConfig either returns a
// Config that keeps its invariants or throws a ConfigError naming the variable(s) at fault,
// never another exception, and never echoes a secret.

/** Every variable of config.ts, with values near what it accepts. */
const num = (min: number, max: number) =>
  fc.oneof(fc.integer({ min, max }).map(String), fc.integer({ min: min - 10, max: max + 10 }).map(String));
const url = (...schemes: string[]) =>
  fc.oneof(
    fc.constantFrom(...schemes).map((s) => `${s}//user:s3cret@host:1234/x`),
    fc.webUrl(),
    fc.constantFrom('', 'not a url', '://', 'http//x'),
  );
const KNOWN: Record<string, fc.Arbitrary<string>> = {
  TAPE_HOST: fc.constantFrom('127.0.0.1', '0.0.0.0', '::', 'localhost'),
  TAPE_PORT: num(0, 65_535),
  TAPE_DATA_DIR: fc.constantFrom('./data', '/tmp/x', 'rel/dir'),
  TAPE_STATIC_DIR: fc.constantFrom('./dist', '/srv/app'),
  TAPE_LOG_LEVEL: fc.constantFrom(
    'fatal',
    'error',
    'warn',
    'info',
    'debug',
    'trace',
    'silent',
    'loud',
    'INFO',
  ),
  DATABASE_URL: url('postgres:', 'postgresql:', 'mysql:'),
  REDIS_URL: url('redis:', 'rediss:', 'http:'),
  TAPE_JWT_SECRET: fc.string({ minLength: 20, maxLength: 50 }),
  TAPE_ACCESS_TOKEN_TTL_S: num(1, 86_400),
  TAPE_REFRESH_TOKEN_TTL_S: num(1, 10_000_000),
  TAPE_ADMIN_PASSWORD: fc.string({ minLength: 4, maxLength: 20 }),
  PROFITDLL_PATH: fc.constantFrom('C:/Profit/ProfitDLL64.dll', './lib.so'),
  PROFITDLL_KEY: fc.string({ maxLength: 12 }),
  PROFITDLL_USER: fc.string({ maxLength: 12 }),
  PROFITDLL_PASSWORD: fc.string({ maxLength: 12 }),
  PROFITDLL_ROUTING_PASSWORD: fc.string({ maxLength: 12 }),
  TAPE_ROUTING: fc.constantFrom('on', 'off', 'yes'),
  TAPE_TICKERS: fc.oneof(
    fc
      .array(fc.tuple(fc.stringMatching(/^[A-Z0-9]{3,13}$/), fc.constantFrom('B', 'F', 'X')), {
        maxLength: 4,
      })
      .map((xs) => xs.map(([t, e]) => `${t}:${e}`).join(',')),
    fc.constantFrom('PETR4:B,PETR4:B', 'PETR4:B,PETR4:F', 'PETR4:B,', ',PETR4:B'),
  ),
  TAPE_SIM_RATE: fc.oneof(num(0, 1_000_000), fc.constantFrom('0.5', '1e3', 'Infinity', 'NaN')),
  TAPE_REPLAY_RING: num(10_000, 10_000_000),
  // Powers of two around the accepted 2^14..2^22, and numbers near the bounds (mostly refused).
  TAPE_CAPTURE_RING: fc.oneof(
    fc.integer({ min: 10, max: 24 }).map((e) => String(2 ** e)),
    num(16_384, 4_194_304),
  ),
  TAPE_WS_SOFT_BYTES: num(16_384, 1 << 20),
  TAPE_WS_HARD_BYTES: num(32_768, 1 << 21),
  TAPE_WS_STALL_MS: num(100, 600_000),
  TAPE_TRUSTED_PROXIES: fc.oneof(
    fc
      .array(fc.constantFrom('10.0.0.5', '10.0.0.0/8', '::1', 'fd00::/8', '127.0.0.1/32'), {
        minLength: 1,
        maxLength: 3,
      })
      .map((xs) => xs.join(',')),
    fc.constantFrom('10.0.0.0/33', 'proxy.local', '10.0.0.5/', '10.0.0.5,', '10.0.0.0/8/1', '::1/129'),
  ),
  TAPE_MAX_REPLAY: num(0, 10_000_000),
  TAPE_TICK_BUFFER_ROWS: num(1_000, 10_000_000),
  TAPE_SHUTDOWN_TIMEOUT_MS: num(1, 60_000),
  TAPE_YJS_MAX_MESSAGE_BYTES: num(1024, 64 * 1024 * 1024),
  TAPE_YJS_MAX_DOC_BYTES: num(4096, 1 << 30),
  TAPE_YJS_RATE: num(0, 100_000),
  TAPE_YJS_BURST: num(0, 1_000_000),
  TAPE_YJS_COMPACT_EVERY: num(0, 1_000_000),
  TAPE_RAG_DOCS_DIRS: fc.oneof(
    fc.array(fc.stringMatching(/^[a-z./]{1,10}$/), { minLength: 1, maxLength: 3 }).map((xs) => xs.join(',')),
    fc.constantFrom('./docs,', ',', 'a,a', './docs, ./more'),
  ),
  QDRANT_URL: url('http:', 'https:', 'grpc:'),
  QDRANT_API_KEY: fc.string({ maxLength: 20 }),
  OLLAMA_HOSTS: fc.oneof(
    fc.array(url('http:', 'https:'), { minLength: 1, maxLength: 3 }).map((xs) => xs.join(',')),
    fc.constantFrom('http://a:11434,', 'http://a:11434, http://b:11434'),
  ),
  TAPE_OLLAMA_CHAT_MODEL: fc.string({ maxLength: 20 }),
  TAPE_OLLAMA_EMBED_MODEL: fc.string({ maxLength: 20 }),
  TAPE_OLLAMA_TIMEOUT_MS: num(100, 600_000),
  TAPE_RAG_RATE: num(0, 10_000),
  TAPE_RAG_BURST: num(0, 1_000),
  TAPE_RAG_CACHE_TTL_S: num(0, 30 * 86_400),
};
const NAMES = Object.keys(KNOWN);

/** Text any variable may be set to by mistake. */
const anyText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '  \t',
    '0',
    '-0',
    '-1',
    '0x10',
    '1e3',
    '1_000',
    ' 12 ',
    '12abc',
    'Infinity',
    'NaN',
    'true',
    'null',
    '\u0000',
    '💥',
  ),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const envArb = fc
  .array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .constantFrom(...NAMES)
          .chain((k) => fc.tuple(fc.constant(k), KNOWN[k] as fc.Arbitrary<string>)),
      },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...NAMES), anyText) },
      { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 12 }), anyText) },
    ),
    { maxLength: 8 },
  )
  .map((kv) => Object.fromEntries(kv) as Record<string, string>);

const SECRET = /SECRET|PASSWORD|KEY|DATABASE_URL|REDIS_URL|QDRANT_URL|OLLAMA_HOSTS/;
const finite = (n: number) => Number.isFinite(n);

function checkInvariants(c: Config, env: Record<string, string>) {
  expect(Object.isFrozen(c)).toBe(true);
  expect(Number.isInteger(c.port) && c.port >= 0 && c.port <= 65_535).toBe(true);
  // A blank value is no value: the default, never a number made out of nothing.
  if (env.TAPE_PORT !== undefined && env.TAPE_PORT.trim() === '') expect(c.port).toBe(9001);
  if (env.TAPE_MAX_REPLAY !== undefined && env.TAPE_MAX_REPLAY.trim() === '')
    expect(c.maxReplay).toBe(100_000);
  expect(c.tickers.length).toBeGreaterThan(0);
  for (const t of c.tickers) expect(t.ticker).toMatch(/^[A-Z0-9]{4,12}$/);
  expect(new Set(c.tickers.map((t) => t.ticker)).size).toBe(c.tickers.length);
  expect(c.wsHardBytes).toBeGreaterThan(c.wsSoftBytes);
  // tape_capture_reset takes a power of two from 2^14 to 2^22 and nothing else.
  const ring = c.profitDll.captureRing;
  expect(Number.isInteger(ring) && ring >= 16_384 && ring <= 4_194_304 && (ring & (ring - 1)) === 0).toBe(
    true,
  );
  for (const n of [
    c.accessTokenTtlS,
    c.refreshTokenTtlS,
    c.replayRing,
    c.maxReplay,
    c.wsStallMs,
    c.shutdownTimeoutMs,
    c.yjs.maxMessageBytes,
    c.yjs.maxDocBytes,
    c.yjs.messagesPerSecond,
    c.yjs.burst,
    c.rag.questionsPerMinute,
    c.rag.burst,
  ])
    expect(finite(n) && n >= 0).toBe(true);
  expect(c.yjs.messagesPerSecond).toBeGreaterThan(0);
  expect(c.rag.sources.length).toBeGreaterThan(0);
  for (const s of c.rag.sources) expect(isAbsolute(s.dir)).toBe(true);
  // An empty entry ("./docs,") would index the working directory, node_modules and all.
  for (const d of env.TAPE_RAG_DOCS_DIRS?.trim() ? env.TAPE_RAG_DOCS_DIRS.split(',') : [])
    expect(d.trim()).not.toBe('');
  expect(new Set(c.rag.sources.map((s) => s.label)).size).toBe(c.rag.sources.length);
  for (const h of c.rag.ollamaHosts) expect(/^https?:$/.test(new URL(h).protocol)).toBe(true);
}

describe('loadConfig over arbitrary environments', () => {
  it('returns a sane Config or throws a ConfigError naming the variable, never anything else', () => {
    let n = 0;
    let valid = 0;
    fc.assert(
      fc.property(envArb, (env) => {
        n++;
        let config: Config;
        try {
          config = loadConfig(env, '/srv/cwd');
        } catch (err) {
          expect(err, `${String(err)} for ${JSON.stringify(env)}`).toBeInstanceOf(ConfigError);
          const message = (err as Error).message;
          const named = [...message.matchAll(/^ {2}([A-Z_]+):/gm)].map((m) => m[1] as string);
          expect(named.length, message).toBeGreaterThan(0);
          for (const name of named) expect(Object.keys(env), message).toContain(name);
          for (const k of Object.keys(env)) {
            const line = message.split('\n').find((l) => l.startsWith(`  ${k}: `) && l.includes('(got '));
            if (SECRET.test(k) && line) expect(line).toMatch(/\(got "<redacted>"\)$/);
          }
          return;
        }
        valid++;
        checkInvariants(config, env);
      }),
      { numRuns: 5000 },
    );
    console.log('fuzz-count', 'env config', n, `(${valid} valid)`);
    expect(valid).toBeGreaterThan(100);
  });

  it.each([
    ['TAPE_PORT', ' '],
    ['TAPE_MAX_REPLAY', '\t'],
  ])('treats a blank %s as unset (the default), not as 0', (name, value) => {
    const c = loadConfig({ [name]: value }, '/srv/cwd');
    expect(c.port).toBe(9001);
    expect(c.maxReplay).toBe(100_000);
  });

  it.each([
    ['TAPE_RAG_DOCS_DIRS', './docs,', /TAPE_RAG_DOCS_DIRS: .*empty/],
    ['TAPE_TICKERS', 'PETR4:B,PETR4:F', /TAPE_TICKERS: .*PETR4.*twice/],
  ])('refuses %s=%s instead of reading something else into it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value }, '/srv/cwd')).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value }, '/srv/cwd')).toThrow(message);
  });
});
