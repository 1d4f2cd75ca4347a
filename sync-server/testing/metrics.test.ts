import { Gauge } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.ts';
import { sampleSum, sampleValues } from './metrics.ts';

// The one reader of /metrics text the tests, the benches and the soak share.

describe('sampleSum and sampleValues', () => {
  it("read a family of the server's own registry, by name and labels", async () => {
    const metrics = createMetrics();
    metrics.marketEvents.inc({ kind: 'trade', outcome: 'accepted' }, 3);
    metrics.marketEvents.inc({ kind: 'any', outcome: 'ring_overflow' }, 2);
    metrics.marketEvents.inc({ kind: 'daily', outcome: 'accepted' }, 0);
    metrics.publishDelay.observe(0.004);
    new Gauge({
      name: 'tape_test_lag_p99_seconds',
      help: 'a name with digits',
      registers: [metrics.registry],
    }).set(0.25);
    const text = await metrics.registry.metrics();
    expect(sampleSum(text, 'tape_market_events_total')).toBe(5);
    expect(sampleSum(text, 'tape_market_events_total', 'outcome="ring_overflow"')).toBe(2);
    expect(sampleSum(text, 'tape_market_events_total', 'kind="trade",outcome="accepted"')).toBe(3);
    expect(sampleSum(text, 'tape_market_events')).toBe(0); // a prefix is another family
    expect(sampleSum(text, 'tape_test_lag_p99_seconds')).toBe(0.25);
    expect(sampleSum(text, 'tape_market_publish_delay_seconds_bucket', 'le="+Inf"')).toBe(1);
    expect(sampleSum(text, 'tape_market_publish_delay_seconds_count')).toBe(1);
    expect(sampleValues(text, 'tape_market_events_total')).toEqual({
      'trade accepted': 3,
      'any ring_overflow': 2,
    });
  });
});
