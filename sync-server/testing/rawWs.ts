// For tests and benches that speak WebSocket below a client library (raw sockets): the
// handshake request, and a client's text frame, masked as RFC 6455 requires of clients.

/** A WebSocket handshake for `path` on 127.0.0.1; `connection` is its Connection header. */
export function upgradeRequest(path: string, connection = 'Upgrade'): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: ${connection}\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
  );
}

export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const head =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  return Buffer.concat([head, mask, payload.map((b, i) => b ^ (mask[i % 4] as number))]);
}
