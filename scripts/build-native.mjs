#!/usr/bin/env node
// Builds native/build/: the ProfitDLL simulator and the capture shim (gcc), and with --win the
// shim cross-compiled for Windows (x86_64-w64-mingw32-gcc), which serves the real DLL there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'native', 'build');
const header = join(root, 'native', 'include', 'profitdll.h');
const WARN = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror'];

const targets = [
  {
    src: ['native/sim/profitdll_sim.c'],
    out: 'libprofitdll_sim.so',
    cc: 'gcc',
    flags: ['-fPIC', '-shared', '-pthread'],
    libs: ['-lm'],
  },
  {
    src: ['native/capture/capture.c'],
    out: 'libtape_capture.so',
    cc: 'gcc',
    flags: ['-fPIC', '-shared'],
    libs: [],
  },
];
if (process.argv.includes('--win')) {
  targets.push({
    src: ['native/capture/capture.c'],
    out: 'tape_capture.dll',
    cc: 'x86_64-w64-mingw32-gcc',
    flags: ['-shared'],
    libs: [],
  });
}

mkdirSync(out, { recursive: true });
for (const t of targets) {
  const target = join(out, t.out);
  const sources = [...t.src.map((s) => join(root, s)), header, join(root, 'native', 'capture', 'capture.h')];
  const newest = Math.max(...sources.map((s) => statSync(s).mtimeMs));
  if (existsSync(target) && statSync(target).mtimeMs > newest) continue;
  const args = [...WARN, ...t.flags, '-o', target, ...t.src.map((s) => join(root, s)), ...t.libs];
  try {
    execFileSync(t.cc, args, { stdio: 'inherit' });
  } catch (err) {
    const missing = err.code === 'ENOENT';
    console.error(
      missing
        ? `build-native: ${t.cc} was not found. Install it (Debian: apt-get install ${t.cc === 'gcc' ? 'gcc' : 'gcc-mingw-w64-x86-64'}) and run npm run build:native.`
        : `build-native: ${t.cc} failed to build ${t.out} (see the errors above).`,
    );
    process.exit(1);
  }
  console.log(`build-native: built native/build/${t.out}`);
}
