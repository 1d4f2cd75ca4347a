import type { Registry } from 'prom-client';
import { ok, type Route } from '../types.ts';

export interface Readiness {
  /** Each check and whether it passes; the process is ready when all pass. */
  checks(): Promise<Record<string, boolean>>;
}

export function opsRoutes(registry: Registry, readiness: Readiness): Route[] {
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
      access: 'public',
      async handle() {
        return { status: 200, text: await registry.metrics(), contentType: registry.contentType };
      },
    },
  ];
}
