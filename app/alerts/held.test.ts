import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AlertJson, CreatedAlertJson, NewAlertJson } from '../../sync-server/shared/alerts.ts';
import { ApiError, api } from '../api/client.ts';
import type { HeldAlertRow } from '../data/db.ts';
import { alertJson } from '../testing/alerts.ts';
import { type HeldStore, heldQueue } from './held.ts';

// The offline queue through the app's own api() against a fake server behind a fake fetch: it
// makes an alert once per clientId (a second POST with it answers 200 and the same alert), and
// each request's fate (no answer, an answer lost after the alert was made, a 5xx, a 422) is the
// test's to choose.

type Fate = 'answer' | 'network' | 'lost' | 500 | 422;

function fakeServer() {
  const made = new Map<string, AlertJson>();
  const posts: string[] = [];
  let fates: Fate[] = [];
  const alertOf = (body: NewAlertJson & { clientId: string }, id: number) =>
    alertJson({ id, clientId: body.clientId, kind: body.kind, ticker: body.ticker ?? null });
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
  const fetch = vi.fn(async (_path: string, init: { body?: string }) => {
    const body = JSON.parse(init.body ?? '{}') as NewAlertJson & { clientId: string };
    posts.push(body.clientId);
    const fate = fates.shift() ?? 'answer';
    if (fate === 'network') throw new TypeError('Failed to fetch');
    if (fate === 500) return json(500, { error: 'internal', message: 'Internal server error' });
    const known = made.get(body.clientId);
    if (!known && fate === 422)
      return json(422, { error: 'already_past', message: 'PETR4 is at 38,60, already at or above 38,50' });
    const alert = known ?? alertOf(body, made.size + 1);
    made.set(body.clientId, alert);
    if (fate === 'lost') throw new TypeError('Failed to fetch');
    return json(known ? 200 : 201, { alert } satisfies CreatedAlertJson);
  });
  return {
    made,
    posts,
    fetch,
    script: (f: Fate[]) => {
      fates = [...f];
    },
  };
}

function memoryStore(): HeldStore & { rows: Map<string, HeldAlertRow> } {
  const rows = new Map<string, HeldAlertRow>();
  return {
    rows,
    list: async () => [...rows.values()].sort((a, b) => a.heldAt - b.heldAt),
    put: async (r) => {
      rows.set(r.clientId, r);
    },
    remove: async (id) => {
      rows.delete(id);
    },
  };
}

const PETR4: NewAlertJson = { kind: 'price_above', ticker: 'PETR4', threshold: 38.5 };

let server: ReturnType<typeof fakeServer>;
let online: boolean;
let clock: number;
let shown: readonly HeldAlertRow[];

function queue(store = memoryStore()) {
  const q = heldQueue({
    store,
    send: (alert) => api<CreatedAlertJson>('/api/v1/alerts', { body: alert }),
    online: () => online,
    changed: (rows) => {
      shown = rows;
    },
    now: () => clock++,
  });
  return { q, store };
}

beforeEach(() => {
  server = fakeServer();
  vi.stubGlobal('fetch', server.fetch);
  online = true;
  clock = 1;
  shown = [];
});
afterEach(() => vi.unstubAllGlobals());

describe('creating an alert', () => {
  it('offline: holds it on the device with a clientId, and sends nothing', async () => {
    online = false;
    const { q, store } = queue();
    const c = await q.create(PETR4);
    expect(c.kind).toBe('held');
    expect(server.fetch).not.toHaveBeenCalled();
    const [row] = [...store.rows.values()];
    expect(row?.alert).toMatchObject({ ...PETR4, clientId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(shown).toEqual([row]);
  });

  it('online without an answer: holds it with the clientId it was sent with', async () => {
    server.script(['network']);
    const { q, store } = queue();
    const c = await q.create(PETR4);
    expect(c.kind).toBe('held');
    expect([...store.rows.keys()]).toEqual(server.posts);
  });

  it("refused: nothing is held, the server's code and message come back", async () => {
    server.script([422]);
    const { q, store } = queue();
    const err = await q.create(PETR4).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 422,
      code: 'already_past',
      message: expect.stringContaining('38,60'),
    });
    expect(store.rows.size).toBe(0);
  });

  it('answered: made at once, nothing held', async () => {
    const { q, store } = queue();
    const c = await q.create(PETR4);
    expect(c.kind === 'made' && c.answer.alert.ticker).toBe('PETR4');
    expect(store.rows.size).toBe(0);
  });
});

describe('sending the held alerts', () => {
  async function heldOne() {
    online = false;
    const it = queue();
    await it.q.create(PETR4);
    online = true;
    return it;
  }

  it('keeps one on a network error or a 5xx, then makes it with the same clientId', async () => {
    const { q, store } = await heldOne();
    const [clientId] = [...store.rows.keys()];
    server.script(['network', 500]);
    expect((await q.flush()).map((r) => r.kind)).toEqual(['kept']);
    expect((await q.flush()).map((r) => r.kind)).toEqual(['kept']);
    expect(store.rows.size).toBe(1);
    const [made] = await q.flush();
    expect(made?.kind).toBe('made');
    expect(server.posts).toEqual([clientId, clientId, clientId]);
    expect(store.rows.size).toBe(0);
    expect(shown).toEqual([]);
  });

  it("drops one the server refuses, with the server's message", async () => {
    const { q, store } = await heldOne();
    server.script([422]);
    const [r] = await q.flush();
    expect(r?.kind).toBe('refused');
    expect(r?.kind === 'refused' && r.error.message).toBe('PETR4 is at 38,60, already at or above 38,50');
    expect(store.rows.size).toBe(0);
    expect(server.made.size).toBe(0);
  });

  it('sends it once when flushes overlap (start and the online event together)', async () => {
    const { q } = await heldOne();
    const [a, b] = await Promise.all([q.flush(), q.flush()]);
    expect(a).toBe(b);
    expect(server.posts).toHaveLength(1);
    expect(await q.flush()).toEqual([]);
    expect(server.posts).toHaveLength(1);
  });

  it('stops at the first one without an answer: the rest wait for the next flush', async () => {
    online = false;
    const { q } = queue();
    for (const threshold of [38.5, 39, 39.5]) await q.create({ ...PETR4, threshold });
    online = true;
    server.script(['network']);
    expect((await q.flush()).map((r) => r.kind)).toEqual(['kept']);
    expect(server.posts).toHaveLength(1);
  });

  it('whatever the network does, each held alert ends made once on the server or refused', async () => {
    const fate = fc.constantFrom<Fate>('answer', 'network', 'lost', 500, 422);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fate, { maxLength: 30 }),
        async (n, fates) => {
          server = fakeServer();
          vi.stubGlobal('fetch', server.fetch);
          online = false;
          const { q, store } = queue();
          for (let i = 0; i < n; i++) await q.create({ ...PETR4, threshold: 38 + i });
          const ids = [...store.rows.keys()];
          online = true;
          server.script(fates);
          const outcomes = new Map<string, string[]>();
          // Every flush is one more chance; after the script, every request is answered.
          for (let round = 0; round < fates.length + n + 1 && store.rows.size > 0; round++)
            for (const r of await q.flush())
              outcomes.set(r.row.clientId, [...(outcomes.get(r.row.clientId) ?? []), r.kind]);
          expect(store.rows.size).toBe(0);
          expect(server.posts.every((id) => ids.includes(id))).toBe(true);
          for (const id of ids) {
            const final = outcomes.get(id)?.filter((k) => k !== 'kept') ?? [];
            expect(final).toHaveLength(1);
            // A refusal only ever comes for an alert the server does not have.
            expect(server.made.has(id)).toBe(final[0] === 'made');
          }
          expect(server.made.size).toBeLessThanOrEqual(n);
        },
      ),
      { numRuns: 150 },
    );
  });
});
