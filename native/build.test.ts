import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CAPTURE_CALLBACKS } from './types.ts';

// scripts/build-native.mjs: incremental builds, clear failures, and the Windows build of the
// capture shim that serves the real ProfitDLL64.dll.

const script = fileURLToPath(new URL('../scripts/build-native.mjs', import.meta.url));
const dll = fileURLToPath(new URL('./build/tape_capture.dll', import.meta.url));
const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env });
const installed = (cmd: string) => spawnSync(cmd, ['--version']).status === 0;

/** Names in a PE image's export directory (PE32+). */
function peExports(image: Buffer): { machine: number; names: string[] } {
  expect(image.toString('latin1', 0, 2)).toBe('MZ');
  const pe = image.readUInt32LE(0x3c);
  expect(image.toString('latin1', pe, pe + 4)).toBe('PE\0\0');
  const sections = image.readUInt16LE(pe + 6);
  const optional = pe + 24;
  expect(image.readUInt16LE(optional)).toBe(0x20b); // PE32+: a 64-bit image
  const exportRva = image.readUInt32LE(optional + 112);
  const sectionTable = optional + image.readUInt16LE(pe + 20);
  const fileOffset = (rva: number) => {
    for (let i = 0; i < sections; i++) {
      const s = sectionTable + i * 40;
      const va = image.readUInt32LE(s + 12);
      if (rva >= va && rva < va + image.readUInt32LE(s + 16)) return rva - va + image.readUInt32LE(s + 20);
    }
    throw new Error(`RVA ${rva} is in no section`);
  };
  const dir = fileOffset(exportRva);
  const names = Array.from({ length: image.readUInt32LE(dir + 24) }, (_, i) => {
    const at = fileOffset(image.readUInt32LE(fileOffset(image.readUInt32LE(dir + 32)) + i * 4));
    return image.toString('latin1', at, image.indexOf(0, at));
  });
  return { machine: image.readUInt16LE(pe + 4), names };
}

describe('build-native', () => {
  it('skips libraries that are newer than their sources', () => {
    expect(run([]).status).toBe(0);
    const again = run([]);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/libprofitdll_sim\.so is up to date/);
    expect(again.stdout).toMatch(/libprofitdll_sim_v1\.so is up to date/);
    expect(again.stdout).toMatch(/libtape_capture\.so is up to date/);
  });

  it('fails with what to install when gcc is missing, and on unknown options', () => {
    const r = run(['--force'], { PATH: '/nonexistent' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/gcc was not found.*apt-get install gcc/);
    const bad = run(['--windows']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown option --windows/);
  });

  it('fails with what to install when the cross compiler is missing', () => {
    run([]); // the Linux libraries are up to date, so only the Windows build needs a compiler
    rmSync(dll, { force: true });
    const r = run(['--win'], { PATH: '/nonexistent' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /x86_64-w64-mingw32-gcc was not found.*gcc-mingw-w64-x86-64.*build:native -- --win/,
    );
  });

  it('cross-compiles the capture shim for 64-bit Windows with MinGW-w64', (ctx) => {
    ctx.skip(
      !installed('x86_64-w64-mingw32-gcc'),
      'x86_64-w64-mingw32-gcc is not installed (Debian: apt-get install gcc-mingw-w64-x86-64)',
    );
    const r = run(['--win']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/built native\/build\/tape_capture\.dll/);
    const { machine, names } = peExports(readFileSync(dll));
    expect(machine).toBe(0x8664);
    expect(names.sort()).toEqual(
      [
        ...CAPTURE_CALLBACKS.map((c) => `tape_capture_${c}_cb`),
        'tape_capture_capacity',
        'tape_capture_drain',
        'tape_capture_dropped',
        'tape_capture_pending',
        'tape_capture_record_bytes',
        'tape_capture_reset',
        'tape_capture_set_v2',
        'tape_capture_wait',
        'tape_capture_wake',
      ].sort(),
    );
  });
});
