import { BlockList, isIP } from 'node:net';

// The address a request comes from, for per-client limits (sign-in) and logs. Directly
// connected, it is the socket's peer. Behind reverse proxies named in TAPE_TRUSTED_PROXIES, it
// is the right-most X-Forwarded-For entry that is not one of them: each proxy appends the
// address it got the request from, so entries to the right of the last trusted hop were written
// by proxies Tape trusts, and anything further left is the client's own say and can be forged.

/** Parses a comma list of addresses and CIDR ranges (`10.0.0.0/8`, `::1`); throws on a bad entry. */
export function parseTrustedProxies(list: string): BlockList {
  const trusted = new BlockList();
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      extra !== undefined ||
      (prefix !== undefined && !(bits !== '' && Number.isInteger(prefix) && prefix >= 0 && prefix <= max))
    )
      throw new Error(`"${entry}" is not an IP address or CIDR range (e.g. 10.0.0.5 or 10.0.0.0/8)`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) trusted.addAddress(address, type);
    else trusted.addSubnet(address, prefix, type);
  }
  return trusted;
}

/** `::ffff:1.2.3.4` (IPv4 on an IPv6 socket) as `1.2.3.4`; anything else as it is. */
const plain = (address: string) => {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? (mapped[1] as string) : address;
};

const isTrusted = (trusted: BlockList, address: string) => {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
};

/**
 * The client's address: the peer itself unless it is a trusted proxy; then, walking
 * X-Forwarded-For from the right, the first entry that is not a trusted proxy. An entry that is
 * not an address ends the walk at the hop that wrote it (the last trusted one).
 */
export function clientAddress(peer: string, forwardedFor: string | undefined, trusted?: BlockList): string {
  let address = plain(peer);
  if (!trusted || !isTrusted(trusted, address) || !forwardedFor) return address;
  const hops = forwardedFor.split(',').map((h) => plain(h.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (isIP(hop) === 0) return address;
    address = hop;
    if (!isTrusted(trusted, hop)) return hop;
  }
  return address;
}
