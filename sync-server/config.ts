import type { BlockList } from 'node:net';
import { basename, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_RING, RING_MAX, RING_MIN } from '../native/captureRing.ts';
import { parseTrustedProxies } from './clientAddress.ts';

// Every setting Tape reads from the environment, validated once at start.
// Defaults are the embedded mode: PGlite under ./data, the simulator DLL, in-process bus.

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const urlOf = (protocols: string[]) =>
  z.string().refine((v) => URL.canParse(v) && protocols.includes(new URL(v).protocol), {
    message: `a URL starting with ${protocols.join(' or ')}`,
  });

// The native capture ring (tape_capture_reset) takes a power of two within these bounds and
// nothing else, so a bad value is refused here, by name, rather than by the shim at start-up.
const RING_FORM = `the capture ring takes a power of two from ${RING_MIN} to ${RING_MAX} records`;
function ringProblem(n: number): string | undefined {
  if (!Number.isInteger(n)) return 'not a whole number';
  if (n < RING_MIN) return `below ${RING_MIN}`;
  if (n > RING_MAX) return `above ${RING_MAX} (1 GiB)`;
  if ((n & (n - 1)) !== 0) return 'not a power of two';
  return undefined;
}
const captureRing = z.coerce.number({ error: `not a number; ${RING_FORM}` }).superRefine((n, ctx) => {
  const why = ringProblem(n);
  if (why) ctx.addIssue({ code: 'custom', message: `${why}; ${RING_FORM}` });
});

const schema = z.object({
  TAPE_HOST: z.string().min(1).default('0.0.0.0'),
  TAPE_PORT: port.default(9001),
  TAPE_DATA_DIR: z.string().min(1).default('./data'),
  TAPE_STATIC_DIR: z.string().min(1).default('./dist'),
  TAPE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: urlOf(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: urlOf(['redis:', 'rediss:']).optional(),
  TAPE_JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  TAPE_METRICS_TOKEN: z.string().min(32, 'at least 32 characters').optional(),
  TAPE_ACCESS_TOKEN_TTL_S: positiveInt.max(86_400).default(900),
  TAPE_REFRESH_TOKEN_TTL_S: positiveInt.default(7 * 86_400),
  TAPE_ADMIN_PASSWORD: z.string().min(8, 'at least 8 characters').optional(),
  PROFITDLL_PATH: z.string().min(1).optional(),
  PROFITDLL_KEY: z.string().min(1).default('tape-simulator'),
  PROFITDLL_USER: z.string().min(1).default('tape'),
  PROFITDLL_PASSWORD: z.string().min(1).default('tape'),
  PROFITDLL_ROUTING_PASSWORD: z.string().min(1).optional(),
  TAPE_ROUTING: z.enum(['on', 'off']).default('on'),
  TAPE_TICKERS: z
    .string()
    .regex(
      /^[A-Z0-9]{4,12}:[BF](,[A-Z0-9]{4,12}:[BF])*$/,
      'a comma list of TICKER:EXCHANGE, e.g. PETR4:B,WINZ25:F',
    )
    .default('PETR4:B,VALE3:B,ITUB4:B,BBDC4:B,WINZ25:F,WDOZ25:F'),
  TAPE_SIM_RATE: z.coerce.number().positive().max(1_000_000).optional(),
  TAPE_BACKFILL: z.enum(['on', 'off']).default('on'),
  TAPE_BACKFILL_STALL_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  TAPE_BACKFILL_RETRY_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  TAPE_CAPTURE_RING: captureRing.default(DEFAULT_RING),
  TAPE_REPLAY_RING: z.coerce.number().int().min(10_000, 'at least 10000').max(10_000_000).default(10_000),
  TAPE_WS_SOFT_BYTES: z.coerce
    .number()
    .int()
    .min(16_384)
    .max(1 << 30)
    .default(512 * 1024),
  TAPE_WS_HARD_BYTES: z.coerce
    .number()
    .int()
    .min(32_768)
    .max(1 << 30)
    .default(4 * 1024 * 1024),
  TAPE_WS_STALL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  TAPE_TRUSTED_PROXIES: z
    .string()
    .superRefine((v, ctx) => {
      try {
        parseTrustedProxies(v);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `a comma list of proxy addresses or ranges: ${(err as Error).message}`,
        });
      }
    })
    .optional(),
  TAPE_MAX_REPLAY: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
  TAPE_TICK_BUFFER_ROWS: z.coerce
    .number()
    .int()
    .min(1_000, 'at least 1000')
    .max(100_000_000)
    .default(1_000_000),
  TAPE_SHUTDOWN_TIMEOUT_MS: positiveInt.max(60_000).default(5_000),
  TAPE_YJS_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  TAPE_YJS_MAX_DOC_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .max(1 << 30)
    .default(8 * 1024 * 1024),
  TAPE_YJS_RATE: z.coerce.number().positive().max(100_000).default(50),
  TAPE_YJS_BURST: positiveInt.max(1_000_000).default(200),
  TAPE_YJS_COMPACT_EVERY: positiveInt.max(1_000_000).default(500),
  TAPE_RAG_DOCS_DIRS: z.string().min(1).default('./docs'),
  QDRANT_URL: urlOf(['http:', 'https:']).optional(),
  QDRANT_API_KEY: z.string().min(1).optional(),
  OLLAMA_HOSTS: z
    .string()
    .refine(
      (v) =>
        v.split(',').every((h) => URL.canParse(h.trim()) && /^https?:$/.test(new URL(h.trim()).protocol)),
      {
        message: 'a comma list of http(s) URLs, e.g. http://gpu1:11434,http://gpu2:11434',
      },
    )
    .optional(),
  TAPE_OLLAMA_CHAT_MODEL: z.string().min(1).default('llama3.1:8b'),
  TAPE_OLLAMA_EMBED_MODEL: z.string().min(1).default('nomic-embed-text'),
  TAPE_OLLAMA_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  TAPE_RAG_RATE: z.coerce.number().positive().max(10_000).default(20),
  TAPE_RAG_BURST: positiveInt.max(1_000).default(5),
  TAPE_RAG_CACHE_TTL_S: positiveInt.max(30 * 86_400).default(86_400),
  // Web Push's VAPID keys (RFC 8292), base64url as web-push generates them: both or neither.
  TAPE_VAPID_PUBLIC_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{87}$/, 'an uncompressed P-256 public key, base64url (87 characters)')
    .optional(),
  TAPE_VAPID_PRIVATE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'a P-256 private key, base64url (43 characters)')
    .optional(),
  TAPE_VAPID_SUBJECT: z
    .string()
    .regex(
      /^(mailto:[^@\s]+@[^@\s]+|https:\/\/\S+)$/,
      'a mailto: address or an https: URL the push services can reach you at',
    )
    .default('mailto:admin@localhost'),
  // Tests only: push endpoints on http://127.0.0.1 (the local push receiver) are accepted.
  TAPE_PUSH_ALLOW_LOOPBACK: z.enum(['0', '1']).default('0'),
});

export type Env = z.input<typeof schema>;

export interface Ticker {
  readonly ticker: string;
  readonly exchange: 'B' | 'F';
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly staticDir: string;
  readonly logLevel: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly jwtSecret: string | undefined;
  /** A bearer token that opens GET /metrics (a Prometheus scraper's); an admin's access token does too. */
  readonly metricsToken: string | undefined;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  readonly adminPassword: string | undefined;
  readonly profitDll: {
    readonly path: string | undefined;
    readonly key: string;
    readonly user: string;
    readonly password: string;
    /** Log in with routing (DLLInitializeLogin) so orders can be sent. */
    readonly routing: boolean;
    /** The routing password (the account's electronic signature) sent with every order request. */
    readonly routingPassword: string;
    readonly simRate: number | undefined;
    /** Records in the native capture ring (256 bytes each): how long a stalled server loses nothing. */
    readonly captureRing: number;
  };
  readonly tickers: readonly Ticker[];
  /**
   * The session so far asked of the DLL before each ticker goes live (market/backfill.ts): on or
   * not, how long a request may stay silent before it is asked again, the first pause before that.
   */
  readonly backfill: { readonly enabled: boolean; readonly stallMs: number; readonly retryMs: number };
  readonly replayRing: number;
  readonly maxReplay: number;
  /** Trades held in memory while the database cannot take them; past this they are dead-lettered. */
  readonly tickBufferRows: number;
  /** Per-socket buffered bytes: conflate above soft, close above hard. */
  readonly wsSoftBytes: number;
  readonly wsHardBytes: number;
  /** A socket conflated this long without catching up is closed. */
  readonly wsStallMs: number;
  /** Reverse proxies whose X-Forwarded-For is believed (clientAddress.ts); none: the peer is the client. */
  readonly trustedProxies: BlockList | undefined;
  readonly shutdownTimeoutMs: number;
  /** Limits of the /yjs rooms (collab/hub.ts CollabLimits). */
  readonly yjs: {
    readonly maxMessageBytes: number;
    readonly maxDocBytes: number;
    readonly messagesPerSecond: number;
    readonly burst: number;
    readonly compactEvery: number;
  };
  /** The assistant (rag/): its corpus and its production backends. */
  readonly rag: {
    /** Markdown directories; a document is named `<label>/<path>`, the label being the directory's name. */
    readonly sources: readonly { readonly label: string; readonly dir: string }[];
    readonly qdrantUrl: string | undefined;
    readonly qdrantApiKey: string | undefined;
    readonly ollamaHosts: readonly string[];
    readonly chatModel: string;
    readonly embedModel: string;
    readonly llmTimeoutMs: number;
    /** Per-user token bucket for questions: per minute, and the burst. */
    readonly questionsPerMinute: number;
    readonly burst: number;
    readonly cacheTtlS: number;
  };
  /** Web Push: the VAPID keys when set (else generated once and kept in the database), the subject. */
  readonly push: {
    readonly vapid: { readonly publicKey: string; readonly privateKey: string } | undefined;
    readonly subject: string;
    /** Tests only: push endpoints on loopback http:// accepted. */
    readonly allowLoopback: boolean;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The settings are valid but the server cannot start with them: its port or data directory is taken. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** Parses the environment once; a bad value names the variable and the expected form. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): Config {
  const relevant = Object.fromEntries(
    // Blank is unset: z.coerce.number would read "  " as 0 (TAPE_PORT=" " on a random port).
    Object.keys(schema.shape).map((k) => [k, env[k]?.trim() === '' ? undefined : env[k]]),
  );
  const parsed = schema.safeParse(relevant);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `  ${name}: ${issue.message} (got ${JSON.stringify(redact(name, relevant[name]))})`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.TAPE_WS_HARD_BYTES <= e.TAPE_WS_SOFT_BYTES) {
    throw new ConfigError(
      'Invalid configuration:\n  TAPE_WS_HARD_BYTES: must be larger than TAPE_WS_SOFT_BYTES',
    );
  }
  const names = e.TAPE_TICKERS.split(',').map((pair) => pair.split(':')[0]);
  const twice = names.find((t, i) => names.indexOf(t) !== i);
  if (twice) {
    throw new ConfigError(`Invalid configuration:\n  TAPE_TICKERS: ${twice} is listed twice`);
  }
  if ((e.TAPE_VAPID_PUBLIC_KEY === undefined) !== (e.TAPE_VAPID_PRIVATE_KEY === undefined)) {
    throw new ConfigError(
      'Invalid configuration:\n  TAPE_VAPID_PUBLIC_KEY, TAPE_VAPID_PRIVATE_KEY: set both (a key pair) or neither (one is generated)',
    );
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  // An empty entry ("./docs,") would resolve to the working directory, node_modules and all.
  if (e.TAPE_RAG_DOCS_DIRS.split(',').some((d) => d.trim() === '')) {
    throw new ConfigError(
      'Invalid configuration:\n  TAPE_RAG_DOCS_DIRS: an empty entry (a comma too many); give each directory once',
    );
  }
  const sources = e.TAPE_RAG_DOCS_DIRS.split(',').map((d) => ({
    label: basename(abs(d.trim())),
    dir: abs(d.trim()),
  }));
  const labels = sources.map((x) => x.label);
  if (new Set(labels).size !== labels.length) {
    throw new ConfigError(
      'Invalid configuration:\n  TAPE_RAG_DOCS_DIRS: two directories have the same name; documents are named after it',
    );
  }
  return Object.freeze({
    host: e.TAPE_HOST,
    port: e.TAPE_PORT,
    dataDir: abs(e.TAPE_DATA_DIR),
    staticDir: abs(e.TAPE_STATIC_DIR),
    logLevel: e.TAPE_LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    jwtSecret: e.TAPE_JWT_SECRET,
    metricsToken: e.TAPE_METRICS_TOKEN,
    accessTokenTtlS: e.TAPE_ACCESS_TOKEN_TTL_S,
    refreshTokenTtlS: e.TAPE_REFRESH_TOKEN_TTL_S,
    adminPassword: e.TAPE_ADMIN_PASSWORD,
    profitDll: Object.freeze({
      path: e.PROFITDLL_PATH ? abs(e.PROFITDLL_PATH) : undefined,
      key: e.PROFITDLL_KEY,
      user: e.PROFITDLL_USER,
      password: e.PROFITDLL_PASSWORD,
      routing: e.TAPE_ROUTING === 'on',
      routingPassword: e.PROFITDLL_ROUTING_PASSWORD ?? e.PROFITDLL_PASSWORD,
      simRate: e.TAPE_SIM_RATE,
      captureRing: e.TAPE_CAPTURE_RING,
    }),
    tickers: Object.freeze(
      e.TAPE_TICKERS.split(',').map((pair) => {
        const [ticker, exchange] = pair.split(':') as [string, 'B' | 'F'];
        return Object.freeze({ ticker, exchange });
      }),
    ),
    backfill: Object.freeze({
      enabled: e.TAPE_BACKFILL === 'on',
      stallMs: e.TAPE_BACKFILL_STALL_MS,
      retryMs: e.TAPE_BACKFILL_RETRY_MS,
    }),
    replayRing: e.TAPE_REPLAY_RING,
    maxReplay: e.TAPE_MAX_REPLAY,
    tickBufferRows: e.TAPE_TICK_BUFFER_ROWS,
    wsSoftBytes: e.TAPE_WS_SOFT_BYTES,
    wsHardBytes: e.TAPE_WS_HARD_BYTES,
    wsStallMs: e.TAPE_WS_STALL_MS,
    trustedProxies: e.TAPE_TRUSTED_PROXIES ? parseTrustedProxies(e.TAPE_TRUSTED_PROXIES) : undefined,
    shutdownTimeoutMs: e.TAPE_SHUTDOWN_TIMEOUT_MS,
    yjs: Object.freeze({
      maxMessageBytes: e.TAPE_YJS_MAX_MESSAGE_BYTES,
      maxDocBytes: e.TAPE_YJS_MAX_DOC_BYTES,
      messagesPerSecond: e.TAPE_YJS_RATE,
      burst: e.TAPE_YJS_BURST,
      compactEvery: e.TAPE_YJS_COMPACT_EVERY,
    }),
    rag: Object.freeze({
      sources: Object.freeze(sources.map((x) => Object.freeze(x))),
      qdrantUrl: e.QDRANT_URL,
      qdrantApiKey: e.QDRANT_API_KEY,
      ollamaHosts: Object.freeze(e.OLLAMA_HOSTS ? e.OLLAMA_HOSTS.split(',').map((h) => h.trim()) : []),
      chatModel: e.TAPE_OLLAMA_CHAT_MODEL,
      embedModel: e.TAPE_OLLAMA_EMBED_MODEL,
      llmTimeoutMs: e.TAPE_OLLAMA_TIMEOUT_MS,
      questionsPerMinute: e.TAPE_RAG_RATE,
      burst: e.TAPE_RAG_BURST,
      cacheTtlS: e.TAPE_RAG_CACHE_TTL_S,
    }),
    push: Object.freeze({
      vapid:
        e.TAPE_VAPID_PUBLIC_KEY && e.TAPE_VAPID_PRIVATE_KEY
          ? Object.freeze({ publicKey: e.TAPE_VAPID_PUBLIC_KEY, privateKey: e.TAPE_VAPID_PRIVATE_KEY })
          : undefined,
      subject: e.TAPE_VAPID_SUBJECT,
      allowLoopback: e.TAPE_PUSH_ALLOW_LOOPBACK === '1',
    }),
  });
}

const SECRET_NAMES = /SECRET|PASSWORD|KEY|METRICS_TOKEN|DATABASE_URL|REDIS_URL|QDRANT_URL|OLLAMA_HOSTS/;

// Secrets never reach the logs, not even in a validation error.
function redact(name: string, value: string | undefined): string | undefined {
  return value !== undefined && SECRET_NAMES.test(name) ? '<redacted>' : value;
}
