#!/usr/bin/env node
// Builds native/build/: the ProfitDLL simulator (also as a V1-only library) and the capture shim
// with gcc; with --win also the shim cross-compiled for Windows (x86_64-w64-mingw32-gcc), which
// serves the real DLL there. On Windows itself it builds only tape_capture.dll, with MinGW-w64's
// gcc. Skips a library whose output is newer than its sources (and this script); --force
// rebuilds. See docs/native.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const native = join(root, 'native');
const out = join(native, 'build');
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--win' && a !== '--force');
if (unknown.length > 0) fail(`unknown option ${unknown.join(' ')} (use --win and/or --force)`);

const files = (dir, ext) =>
  readdirSync(join(native, dir))
    .filter((f) => f.endsWith(ext))
    .map((f) => join(native, dir, f));
const headers = [...files('include', '.h'), ...files('capture', '.h'), ...files('sim', '.h')];
const WARNINGS = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror'];
const captureSrc = files('capture', '.c');

// -static-libgcc: the DLL must load next to ProfitDLL64.dll without MinGW runtime DLLs.
const windowsShim = (cc) => ({
  out: 'tape_capture.dll',
  cc,
  src: captureSrc,
  flags: ['-shared', '-static-libgcc'],
  libs: [],
});
// On Windows only the shim is built (with MinGW-w64's gcc): the real ProfitDLL64.dll is the DLL there.
const targets =
  process.platform === 'win32'
    ? [windowsShim('gcc')]
    : [
        {
          out: 'libprofitdll_sim.so',
          cc: 'gcc',
          src: files('sim', '.c'),
          flags: ['-fPIC', '-shared', '-pthread', '-fvisibility=hidden'],
          libs: ['-lm'],
        },
        // The same simulator without the current market-data exports (SetTradeCallbackV2,
        // SubscribePriceDepth…): a DLL older than those, so tests reach the binding's V1 fallback
        // by its real symbol lookup.
        {
          out: 'libprofitdll_sim_v1.so',
          cc: 'gcc',
          src: files('sim', '.c'),
          flags: ['-fPIC', '-shared', '-pthread', '-fvisibility=hidden', '-DSIM_V1_ONLY'],
          libs: ['-lm'],
        },
        {
          out: 'libtape_capture.so',
          cc: 'gcc',
          src: captureSrc,
          flags: ['-fPIC', '-shared', '-pthread', '-fvisibility=hidden'],
          libs: [],
        },
        ...(args.includes('--win') ? [windowsShim('x86_64-w64-mingw32-gcc')] : []),
      ];
const install = (cc) =>
  process.platform === 'win32'
    ? 'MinGW-w64 gcc and put it on PATH (for example MSYS2: pacman -S mingw-w64-ucrt-x86_64-gcc)'
    : `it (Debian/Ubuntu: apt-get install ${cc === 'gcc' ? 'gcc' : 'gcc-mingw-w64-x86-64'})`;

const self = fileURLToPath(import.meta.url);
mkdirSync(out, { recursive: true });
for (const t of targets) {
  const target = join(out, t.out);
  const inputs = [...t.src, ...headers, self];
  const newest = Math.max(...inputs.map((s) => statSync(s).mtimeMs));
  if (!args.includes('--force') && existsSync(target) && statSync(target).mtimeMs > newest) {
    console.log(`build-native: native/build/${t.out} is up to date`);
    continue;
  }
  // Build beside the target and rename: a process that has the old library loaded keeps its copy.
  const tmp = `${target}.tmp`;
  const r = spawnSync(t.cc, [...WARNINGS, ...t.flags, '-o', tmp, ...t.src, ...t.libs], { stdio: 'inherit' });
  if (r.error?.code === 'ENOENT') {
    fail(
      `${t.cc} was not found, so native/build/${t.out} cannot be built. Install ${install(t.cc)} ` +
        `and run \`npm run build:native${t.cc === 'gcc' ? '' : ' -- --win'}\`.`,
    );
  }
  if (r.error) fail(`could not run ${t.cc}: ${r.error.message}`);
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    fail(
      `${t.cc} failed to build native/build/${t.out} from ${t.src.map((s) => relative(root, s)).join(', ')} (errors above).`,
    );
  }
  renameSync(tmp, target);
  console.log(`build-native: built native/build/${t.out}`);
}

function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}
