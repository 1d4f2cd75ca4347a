#!/usr/bin/env node
// Draws Tape's app icons (a rising tape line on the terminal's background) as PNGs with no
// image library: run once after changing the design; the PNGs are committed in public/icons.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BG = [0x0b, 0x0f, 0x14];
const LINE = [0x2e, 0xcc, 0x71];
// The line of favicon.svg, in a 64-unit box.
const POINTS = [
  [10, 44],
  [22, 30],
  [32, 38],
  [46, 20],
  [54, 26],
];

function distToSegment(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

function png(size, { maskable }) {
  // Maskable icons keep their content inside the central 80% safe zone.
  const scale = maskable ? 0.8 : 1;
  const offset = (size * (1 - scale)) / 2;
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const u = ((x + 0.5 - offset) / (size * scale)) * 64;
      const v = ((y + 0.5 - offset) / (size * scale)) * 64;
      let d = Number.POSITIVE_INFINITY;
      for (let i = 1; i < POINTS.length; i++) d = Math.min(d, distToSegment(u, v, POINTS[i - 1], POINTS[i]));
      // Anti-aliased stroke of width 5 units.
      const a = Math.max(0, Math.min(1, 2.5 - d + 0.5));
      const o = y * (size * 4 + 1) + 1 + x * 4;
      for (let c = 0; c < 3; c++) raw[o + c] = Math.round(BG[c] * (1 - a) + LINE[c] * a);
      raw[o + 3] = 255;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

for (const [name, size, maskable] of [
  ['icon-192.png', 192, false],
  ['icon-512.png', 512, false],
  ['maskable-512.png', 512, true],
  ['apple-touch-icon.png', 180, false],
]) {
  writeFileSync(new URL(`../public/icons/${name}`, import.meta.url), png(size, { maskable }));
  console.log(`public/icons/${name}`);
}
