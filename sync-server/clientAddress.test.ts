import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddress, parseTrustedProxies } from './clientAddress.ts';

const trusted = parseTrustedProxies('10.0.0.0/8, 192.168.1.10, fd00::/8');

describe('clientAddress', () => {
  it('is the peer when the peer is not a trusted proxy, whatever it forwards', () => {
    expect(clientAddress('203.0.113.7', '10.0.0.1, 198.51.100.9', trusted)).toBe('203.0.113.7');
    expect(clientAddress('203.0.113.7', undefined, trusted)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.2', '198.51.100.9')).toBe('10.0.0.2'); // no proxies configured
  });

  it('behind trusted proxies, is the right-most forwarded hop that is not one of them', () => {
    expect(clientAddress('10.0.0.2', '198.51.100.9', trusted)).toBe('198.51.100.9');
    // A client-written entry on the left is not believed.
    expect(clientAddress('10.0.0.2', '1.1.1.1, 198.51.100.9, 192.168.1.10', trusted)).toBe('198.51.100.9');
    expect(clientAddress('::ffff:10.0.0.2', '::ffff:198.51.100.9', trusted)).toBe('198.51.100.9');
    expect(clientAddress('fd00::1', '2001:db8::7', trusted)).toBe('2001:db8::7');
    // Only proxies in the chain: the furthest one.
    expect(clientAddress('10.0.0.2', '10.0.0.3, 10.0.0.4', trusted)).toBe('10.0.0.3');
    // A hop that is not an address ends the walk at the proxy that wrote it.
    expect(clientAddress('10.0.0.2', 'unknown', trusted)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '198.51.100.9, garbage, 10.0.0.3', trusted)).toBe('10.0.0.3');
  });

  it('property: any header gives the peer or one of its hops, and never a hop left of an untrusted one', () => {
    const hop = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.constantFrom('10.1.2.3', '192.168.1.10', 'fd00::9', '::ffff:10.9.9.9', 'unknown', ''),
      fc.string({ maxLength: 12 }),
    );
    // A trusted peer hands over to the forwarded address; an untrusted one keeps its own.
    const isTrusted = (h: string) => clientAddress(h, '198.51.100.1', trusted) === '198.51.100.1';
    const plain = (h: string) => h.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    fc.assert(
      fc.property(
        fc.constantFrom('10.0.0.2', '203.0.113.7'),
        fc.array(hop, { maxLength: 6 }),
        (peer, hops) => {
          const got = clientAddress(peer, hops.join(', '), trusted);
          const seen = hops.map(plain);
          if (!isTrusted(peer) || hops.length === 0) expect(got).toBe(peer);
          else if (got !== peer) {
            expect(seen).toContain(got);
            // Every hop to the right of the answer is a trusted proxy.
            expect(seen.slice(seen.lastIndexOf(got) + 1).every(isTrusted)).toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('refuses trusted-proxy entries that are not addresses or ranges', () => {
    for (const bad of ['proxy.local', '10.0.0.0/33', '10.0.0.5/', '::1/129', '10.0.0.0/8/1', '', '10.0.0.5,'])
      expect(() => parseTrustedProxies(bad), bad).toThrow(/not an IP address or CIDR range/);
    expect(parseTrustedProxies('10.0.0.5').check('10.0.0.5')).toBe(true);
  });
});
