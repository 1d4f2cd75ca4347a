import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notificationOptions, parseNotification } from './notification.ts';

// A push payload is bytes from a push service: read strictly, and whatever arrives, the service
// worker shows something and a click stays on Tape's own origin.

describe('a push payload', () => {
  it('is shown as the server wrote it', () => {
    const p = parseNotification(
      JSON.stringify({
        title: 'PETR4 acima de 38,60',
        body: 'Negociado a 38,62',
        tag: 'alert-7',
        url: '/?ticker=PETR4',
      }),
    );
    expect(p).toEqual({
      title: 'PETR4 acima de 38,60',
      body: 'Negociado a 38,62',
      tag: 'alert-7',
      url: '/?ticker=PETR4',
    });
    expect(notificationOptions(p)).toMatchObject({
      body: 'Negociado a 38,62',
      tag: 'alert-7',
      data: { url: '/?ticker=PETR4' },
    });
  });

  it('that sends elsewhere, or cannot be read, becomes the generic notice', () => {
    for (const text of [
      undefined,
      'not json',
      'null',
      '[]',
      JSON.stringify({ title: 'x', url: 'https://evil.example/' }),
      JSON.stringify({ title: 'x', url: '//evil.example/' }),
      JSON.stringify({ title: '', url: '/' }),
      JSON.stringify({ url: '/' }),
    ])
      expect(parseNotification(text).url, String(text)).toBe('/?screen=alerts');
  });

  it('never throws, and its link is always a path of this origin', () => {
    const anyJson = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record({ title: fc.string(), body: fc.anything(), tag: fc.anything(), url: fc.string() })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(anyJson, (text) => {
        const p = parseNotification(text);
        expect(typeof p.title).toBe('string');
        expect(p.title.length).toBeGreaterThan(0);
        expect(p.title.length).toBeLessThanOrEqual(300);
        expect(p.url.startsWith('/') && !p.url.startsWith('//')).toBe(true);
        expect(new URL(p.url, 'https://tape.example').origin).toBe('https://tape.example');
      }),
    );
  });
});
