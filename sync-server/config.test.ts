import { describe, expect, it } from 'vitest';
import { DEFAULT_RING, RING_MAX, RING_MIN } from '../native/captureRing.ts';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to the embedded mode on port 9001', () => {
    const c = loadConfig({}, '/srv/tape');
    expect(c.port).toBe(9001);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.profitDll.path).toBeUndefined();
    expect(c.dataDir).toBe('/srv/tape/data');
    expect(c.tickBufferRows).toBe(1_000_000);
    expect(c.profitDll.captureRing).toBe(65_536);
    expect(c.profitDll.captureRing).toBe(DEFAULT_RING);
    expect(c.tickers.map((t) => t.ticker)).toContain('PETR4');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads production settings', () => {
    const c = loadConfig({
      TAPE_PORT: '8080',
      DATABASE_URL: 'postgres://u@db:5432/tape',
      REDIS_URL: 'redis://cache:6379',
      TAPE_TICKERS: 'PETR4:B,WDOZ25:F',
    });
    expect(c.port).toBe(8080);
    expect(loadConfig({ TAPE_TICK_BUFFER_ROWS: '20000' }).tickBufferRows).toBe(20_000);
    expect(loadConfig({ TAPE_METRICS_TOKEN: 'm'.repeat(32) }).metricsToken).toBe('m'.repeat(32));
    expect(loadConfig({ TAPE_CAPTURE_RING: '1048576' }).profitDll.captureRing).toBe(1_048_576);
    expect(loadConfig({ TAPE_CAPTURE_RING: String(RING_MIN) }).profitDll.captureRing).toBe(16_384);
    expect(loadConfig({ TAPE_CAPTURE_RING: String(RING_MAX) }).profitDll.captureRing).toBe(4_194_304);
    expect(loadConfig({ TAPE_CAPTURE_RING: ' ' }).profitDll.captureRing).toBe(DEFAULT_RING);
    expect(c.databaseUrl).toBe('postgres://u@db:5432/tape');
    expect(c.tickers).toEqual([
      { ticker: 'PETR4', exchange: 'B' },
      { ticker: 'WDOZ25', exchange: 'F' },
    ]);
  });

  it.each([
    ['TAPE_PORT', 'ninety', /TAPE_PORT/],
    ['TAPE_PORT', '70000', /TAPE_PORT/],
    ['DATABASE_URL', 'mysql://x@y/z', /DATABASE_URL: a URL starting with postgres:/],
    ['REDIS_URL', 'not a url', /REDIS_URL/],
    ['TAPE_JWT_SECRET', 'short', /TAPE_JWT_SECRET: .*32/],
    ['TAPE_METRICS_TOKEN', 'x'.repeat(31), /TAPE_METRICS_TOKEN: at least 32 characters/],
    ['TAPE_TICKERS', 'PETR4', /TAPE_TICKERS: a comma list of TICKER:EXCHANGE/],
    ['TAPE_LOG_LEVEL', 'loud', /TAPE_LOG_LEVEL/],
    ['TAPE_TICK_BUFFER_ROWS', '10', /TAPE_TICK_BUFFER_ROWS: at least 1000/],
    ['TAPE_TICK_BUFFER_ROWS', 'lots', /TAPE_TICK_BUFFER_ROWS/],
    ['TAPE_CAPTURE_RING', 'lots', /TAPE_CAPTURE_RING: not a number; .*power of two from 16384 to 4194304/],
    ['TAPE_CAPTURE_RING', '65536.5', /TAPE_CAPTURE_RING: not a whole number; .*power of two/],
    ['TAPE_CAPTURE_RING', '100000', /TAPE_CAPTURE_RING: not a power of two; .*16384 to 4194304/],
    ['TAPE_CAPTURE_RING', '1024', /TAPE_CAPTURE_RING: below 16384; .*power of two/],
    ['TAPE_CAPTURE_RING', '8388608', /TAPE_CAPTURE_RING: above 4194304 .*power of two/],
  ])('rejects %s=%s naming the variable and the expected form', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('never echoes a secret in its error', () => {
    try {
      loadConfig({
        TAPE_JWT_SECRET: 'hunter2',
        TAPE_METRICS_TOKEN: 'scrape-me',
        DATABASE_URL: 'mysql://user:pw@h/db',
      });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).toContain('TAPE_METRICS_TOKEN');
      expect(String(err)).not.toContain('hunter2');
      expect(String(err)).not.toContain('scrape-me');
      expect(String(err)).not.toContain('pw@h');
      expect(String(err)).toContain('<redacted>');
    }
  });
});
