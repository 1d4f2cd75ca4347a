import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OllamaDouble, ollamaDouble } from '../testing/ragDoubles.ts';
import { dot } from './embed.ts';
import { circuitBreaker, hostLabel, LlmTimeoutError, LlmUnavailableError, ollamaPool } from './llm.ts';

// The pool drives the real `ollama` client against two doubles on loopback.

const collect = async (it: AsyncIterable<string>) => {
  let s = '';
  for await (const t of it) s += t;
  return s;
};
const ask = [{ role: 'user' as const, content: 'hi' }];

describe('circuitBreaker', () => {
  it('opens after the failures in a row, half-opens after the cooldown for one trial, closes on its success', () => {
    const b = circuitBreaker({ failures: 2, cooldownMs: 1000 });
    expect(b.allow(0)).toBe(true);
    b.failure(0);
    expect(b.state(0)).toBe('closed');
    b.failure(10);
    expect(b.state(10)).toBe('open');
    expect(b.allow(500)).toBe(false);
    expect(b.state(1010)).toBe('half-open');
    expect(b.allow(1010)).toBe(true);
    expect(b.allow(1011)).toBe(false); // one trial at a time
    b.success();
    expect(b.state(1012)).toBe('closed');
    expect(b.allow(1012)).toBe(true);
  });

  it('opens again for a whole cooldown when the trial fails', () => {
    const b = circuitBreaker({ failures: 1, cooldownMs: 1000 });
    b.failure(0);
    expect(b.allow(1000)).toBe(true);
    b.failure(1000);
    expect(b.state(1999)).toBe('open');
    expect(b.state(2000)).toBe('half-open');
  });

  it('a success resets the count of failures', () => {
    const b = circuitBreaker({ failures: 2, cooldownMs: 1000 });
    b.failure(0);
    b.success();
    b.failure(1);
    expect(b.state(1)).toBe('closed');
  });
});

describe('ollamaPool', () => {
  let one: OllamaDouble;
  let two: OllamaDouble;
  let t = 0;
  const pool = (over: Partial<Parameters<typeof ollamaPool>[0]> = {}) =>
    ollamaPool({
      hosts: [one.url, two.url],
      chatModel: 'llama-test',
      embedModel: 'embed-test',
      timeoutMs: 300,
      idleMs: 300,
      breaker: { failures: 2, cooldownMs: 10_000 },
      now: () => t,
      ...over,
    });
  beforeAll(async () => {
    [one, two] = await Promise.all([ollamaDouble(), ollamaDouble()]);
  });
  afterEach(() => {
    for (const d of [one, two]) {
      d.behaviour = 'ok';
      d.requests.length = 0;
      d.reply = 'Tape keeps the last 10,000 events per ticker [1].';
    }
    t = 0;
  });
  afterAll(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  it('streams a chat from the first host as the client sends it: model, messages, stream, no tools', async () => {
    const text = await collect(await pool().chatStream(ask));
    expect(text).toBe('Tape keeps the last 10,000 events per ticker [1].');
    expect(two.requests).toHaveLength(0);
    const [req] = one.chats();
    expect(req?.body).toMatchObject({ model: 'llama-test', messages: ask, stream: true });
    expect(req?.body).not.toHaveProperty('tools');
  });

  it.each([
    ['answers 500', 'error'],
    ['drops the connection', 'reset'],
    ['is slower than the timeout', 'slow'],
  ] as const)('fails over to host 2 when host 1 %s', async (_, behaviour) => {
    one.behaviour = behaviour;
    one.delayMs = 2_000;
    two.reply = 'from two';
    const started = Date.now();
    expect(await collect(await pool().chatStream(ask))).toBe('from two');
    expect(one.chats()).toHaveLength(1);
    expect(two.chats()).toHaveLength(1);
    if (behaviour === 'slow') expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('opens host 1’s breaker after its failures, skips it, and half-opens it after the cooldown', async () => {
    const p = pool();
    one.behaviour = 'error';
    two.reply = 'two';
    for (let i = 0; i < 3; i++) await collect(await p.chatStream(ask));
    expect(one.chats()).toHaveLength(2); // the third call skipped it
    expect(two.chats()).toHaveLength(3);
    expect(p.hosts().map((h) => h.state)).toEqual(['open', 'closed']);

    t = 10_000; // cooldown over: one trial goes to host 1, which has recovered
    one.behaviour = 'ok';
    one.reply = 'one again';
    expect(p.hosts()[0]?.state).toBe('half-open');
    expect(await collect(await p.chatStream(ask))).toBe('one again');
    expect(p.hosts()[0]?.state).toBe('closed');
    expect(one.chats()).toHaveLength(3);
  });

  it('a failed half-open trial opens the breaker again', async () => {
    const p = pool();
    one.behaviour = 'error';
    await collect(await p.chatStream(ask));
    await collect(await p.chatStream(ask));
    t = 10_000;
    await collect(await p.chatStream(ask)); // the trial, failed: host 2 answers
    expect(p.hosts()[0]?.state).toBe('open');
    t = 15_000;
    await collect(await p.chatStream(ask));
    expect(one.chats()).toHaveLength(3);
  });

  it('throws LlmUnavailableError naming every host, without credentials, when all fail', async () => {
    one.behaviour = 'error';
    two.behaviour = 'reset';
    const withCreds = two.url.replace('http://', 'http://user:s3cret@');
    const p = pool({ hosts: [one.url, withCreds] });
    const err = await p.chatStream(ask).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmUnavailableError);
    expect((err as LlmUnavailableError).causes).toHaveLength(2);
    expect((err as Error).message).toContain('model runner crashed');
    expect((err as Error).message).not.toContain('s3cret');
    expect(hostLabel(withCreds)).toBe(two.url);
    // The credentials reached host 2 as a Basic header (fetch refuses them in the URL).
    expect(two.requests.at(-1)?.headers.authorization).toBe(`Basic ${btoa('user:s3cret')}`);
  });

  it('ends a stream that goes silent mid-answer with a timeout, and counts it against the host', async () => {
    one.behaviour = 'stall';
    const p = pool({ breaker: { failures: 1, cooldownMs: 10_000 } });
    const stream = await p.chatStream(ask);
    const got: string[] = [];
    const err = await (async () => {
      for await (const x of stream) got.push(x);
    })().catch((e: unknown) => e);
    expect(got).toEqual(['Tape ']);
    expect(err).toBeInstanceOf(LlmTimeoutError);
    expect(p.hosts()[0]?.state).toBe('open');
    expect(two.chats()).toHaveLength(0); // no failover once the reader has seen text
  });

  it('embeds through /api/embed with failover, as unit vectors', async () => {
    one.behaviour = 'error';
    const [a, b] = await pool().embed(['replay ring', 'kill switch']);
    expect(dot(a as Float32Array, a as Float32Array)).toBeCloseTo(1, 5);
    expect(a?.length).toBe(64);
    expect(dot(a as Float32Array, b as Float32Array)).toBeLessThan(0.5);
    const req = two.requests.find((r) => r.path === '/api/embed');
    expect(req?.body).toEqual({ model: 'embed-test', input: ['replay ring', 'kill switch'] });
  });

  it('asks for JSON without streaming for the re-ranker', async () => {
    one.jsonReply = '{"ranking":[2,1]}';
    expect(await pool().chat(ask, true)).toBe('{"ranking":[2,1]}');
    expect(one.chats()[0]?.body).toMatchObject({ format: 'json', stream: false, model: 'llama-test' });
    one.jsonReply = undefined;
  });

  it('probes each host without touching the breakers', async () => {
    two.behaviour = 'error';
    const p = pool();
    expect(await p.probe()).toEqual([
      { host: one.url, state: 'closed', up: true },
      { host: two.url, state: 'closed', up: false },
    ]);
  });
});
