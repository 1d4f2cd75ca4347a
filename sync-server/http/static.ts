import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = /^(text\/|application\/(json|manifest)|image\/svg)/;
// Quality 9 is within a few percent of 11 and an order of magnitude faster at start-up.
const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } };

interface Entry {
  readonly identity: Buffer;
  readonly gzip: Buffer | undefined;
  readonly br: Buffer | undefined;
  readonly type: string;
  readonly etag: string;
  readonly cacheControl: string;
}

export interface StaticHit {
  readonly status: 200 | 304;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

export interface StaticFiles {
  lookup(url: string, acceptEncoding: string, ifNoneMatch: string): StaticHit | undefined;
}

/**
 * The built app, read and compressed once at start. Hashed assets are cached for a year;
 * index.html and the service worker are revalidated so an update is seen at once.
 */
export function loadStaticFiles(dir: string): StaticFiles | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, Entry>();
  for (const path of walk(dir)) {
    const url = `/${relative(dir, path).split('\\').join('/')}`;
    const identity = readFileSync(path);
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    // Source maps are fetched by developer tools only: not worth compressing at start.
    const compress = COMPRESSIBLE.test(type) && identity.length > 512 && !path.endsWith('.map');
    files.set(url, {
      identity,
      gzip: compress ? gzipSync(identity, { level: 9 }) : undefined,
      br: compress ? brotliCompressSync(identity, BROTLI) : undefined,
      type,
      etag: `"${createHash('sha1').update(identity).digest('base64url')}"`,
      cacheControl: url.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }
  const index = files.get('/index.html') as Entry;
  return {
    lookup(url, acceptEncoding, ifNoneMatch) {
      // Client-side routes (no file extension) get the app shell.
      const entry = files.get(url) ?? (extname(url) === '' ? index : undefined);
      if (!entry) return undefined;
      const headers: Record<string, string> = {
        'Content-Type': entry.type,
        'Cache-Control': entry.cacheControl,
        ETag: entry.etag,
        Vary: 'Accept-Encoding',
      };
      if (ifNoneMatch === entry.etag) return { status: 304, body: Buffer.alloc(0), headers };
      if (entry.br && /\bbr\b/.test(acceptEncoding)) {
        return { status: 200, body: entry.br, headers: { ...headers, 'Content-Encoding': 'br' } };
      }
      if (entry.gzip && /\bgzip\b/.test(acceptEncoding)) {
        return { status: 200, body: entry.gzip, headers: { ...headers, 'Content-Encoding': 'gzip' } };
      }
      return { status: 200, body: entry.identity, headers };
    },
  };
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
