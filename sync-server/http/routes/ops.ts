import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import { ok, type Route } from '../types.ts';

export interface Readiness {
  /** Each check and whether it passes; the process is ready when all pass. */
  checks(): Promise<Record<string, boolean>>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether `given` is `secret`, in time that tells nothing of where they differ or of its length. */
function sameSecret(given: string, secret: string): boolean {
  return timingSafeEqual(digest(given), digest(secret));
}

/**
 * `/healthz` and `/readyz` for anyone (probes); `/metrics` (per-ticker rates, connections, the
 * DLL's state) for an admin's access token or `metricsToken`, a scraper's bearer token.
 */
export function opsRoutes(registry: Registry, readiness: Readiness, metricsToken?: string): Route[] {
  return [
    { method: 'get', path: '/healthz', access: 'public', handle: () => ok({ status: 'ok' }) },
    {
      method: 'get',
      path: '/readyz',
      access: 'public',
      async handle() {
        const checks = await readiness.checks();
        const ready = Object.values(checks).every(Boolean);
        return { status: ready ? 200 : 503, json: { status: ready ? 'ready' : 'not_ready', checks } };
      },
    },
    {
      method: 'get',
      path: '/metrics',
      access: ['admin'],
      bearer: metricsToken === undefined ? undefined : (token) => sameSecret(token, metricsToken),
      async handle() {
        return { status: 200, text: await registry.metrics(), contentType: registry.contentType };
      },
    },
  ];
}
