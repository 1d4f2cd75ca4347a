import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { check, cycles, type Import, importGraph, koffiLoaders } from './layers.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'tape-layers-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes `files` under a fresh folder of the scratch directory; returns the folder. */
function lay(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

// Each fixture file imports each specifier on a line of its own; `true` marks the ones the
// rules must refuse. The files sit where the real ones would, under a copy of biome.json.
const FIXTURES: Record<string, Record<string, boolean>> = {
  'app/orders/api.ts': {
    '../../sync-server/shared/orders.ts': false,
    '../../sync-server/store/orders.ts': true,
    '../../sync-server/market/session.ts': true,
    '../../sync-server/rag/service.ts': true,
    '../../native/errors.ts': true,
    postgres: true,
    '@tanstack/react-query': false,
  },
  'sync-server/market/session.ts': {
    '../http/uws.ts': true,
    '../../sync-server/http/types.ts': true,
    '../ws.ts': false,
    '../shared/market.ts': false,
    '../deadLetters/queue.ts': false,
    'uWebSockets.js': true,
  },
  'sync-server/orders/manager.ts': { koffi: true, '../../native/errors.ts': false, zod: false },
  'sync-server/deadLetters/queue.ts': {
    postgres: true,
    '../http/types.ts': true,
    '../shared/market.ts': false,
    'node:fs/promises': false,
  },
  'sync-server/rag/storage.ts': { postgres: true, '../store/db.ts': false },
  'sync-server/collab/hub.ts': { '../http/routes/watchlists.ts': true, yjs: false },
  'sync-server/auth/users.ts': { postgres: true, 'node:crypto': false },
  'sync-server/config.ts': {
    '../native/profitdll.ts': true,
    '../native/errors.ts': true,
    '../native/captureRing.ts': false,
    './http/types.ts': true,
    './clientAddress.ts': false,
    zod: false,
  },
  'sync-server/shared/orders.ts': {
    './instruments.ts': false,
    '../market/service.ts': true,
    '../orders/state.ts': true,
    zod: true,
    'node:net': true,
  },
  'sync-server/shared/orders.test.ts': { vitest: false, '../testing/market.ts': false },
  'sync-server/store/ticks.ts': {
    postgres: false,
    '../http/uws.ts': true,
    'uWebSockets.js': true,
    koffi: true,
  },
  'sync-server/http/uws.ts': { 'uWebSockets.js': false, '../ws.ts': false },
  'sync-server/http/routes/market.ts': { 'uWebSockets.js': true, '../../market/service.ts': false },
  'sync-server/market/market.test.ts': { '../http/uws.ts': false, postgres: false, 'uWebSockets.js': true },
  'native/profitdll.ts': { koffi: false },
  'native/binding.ts': { koffi: false },
  'native/simControls.ts': { koffi: false },
  'native/records.ts': { koffi: true },
  'native/types.ts': { koffi: true },
  'native/errors.ts': { koffi: true },
};

describe("biome.json's import rules", () => {
  it('refuse each bad import in the fixtures and only those', () => {
    const config = JSON.parse(readFileSync(join(ROOT, 'biome.json'), 'utf8'));
    delete config.$schema;
    const files: Record<string, string> = { 'biome.json': JSON.stringify(config) };
    for (const [path, specs] of Object.entries(FIXTURES)) {
      const names = Object.keys(specs).map((_, i) => `m${i}`);
      files[path] = [
        ...Object.keys(specs).map((s, i) => `import * as m${i} from '${s}';`),
        `export const all = [${names.join(', ')}];`,
        '',
      ].join('\n');
    }
    const dir = lay('rules', files);
    const run = spawnSync(
      join(ROOT, 'node_modules/.bin/biome'),
      ['lint', '--reporter=json', '--only=style/noRestrictedImports', '.'],
      { cwd: dir, encoding: 'utf8' },
    );
    const report = JSON.parse(run.stdout) as {
      diagnostics: { category: string; location: { path: string; start: { line: number } } }[];
    };
    const refused = report.diagnostics
      .filter((d) => d.category === 'lint/style/noRestrictedImports')
      .map(
        (d) =>
          `${d.location.path}: ${Object.keys(FIXTURES[d.location.path] ?? {})[d.location.start.line - 1]}`,
      )
      .sort();
    const expected = Object.entries(FIXTURES)
      .flatMap(([path, specs]) => Object.entries(specs).flatMap(([s, bad]) => (bad ? [`${path}: ${s}`] : [])))
      .sort();
    expect(refused).toEqual(expected);
    expect(run.status).not.toBe(0);
  });
});

const edge = (from: string, to: string, file = `${from}x.ts`, typeOnly = false): Import => ({
  from,
  to,
  file,
  target: `${to}y.ts`,
  typeOnly,
});

describe('the folder cycle check (scripts/layers.ts)', () => {
  it('finds each cycle, however long, and nothing in a graph without one', () => {
    expect(cycles([edge('a/', 'b/'), edge('b/', 'c/'), edge('c/', 'a/'), edge('c/', 'd/')])).toEqual([
      ['a/', 'b/', 'c/'],
    ]);
    expect(cycles([edge('a/', 'b/'), edge('b/', 'a/'), edge('c/', 'd/'), edge('d/', 'c/')])).toEqual([
      ['a/', 'b/'],
      ['c/', 'd/'],
    ]);
    expect(cycles([edge('a/', 'b/'), edge('a/', 'c/'), edge('b/', 'c/'), edge('c/', 'd/')])).toEqual([]);
  });

  it('names the imports that close a cycle, leaves out an allowed one, and fails on a stale allowance', () => {
    const imports = [
      edge('market/', 'store/', 'market/writer.ts'),
      edge('store/', 'market/', 'store/ticks.ts'),
    ];
    const [problem, ...rest] = check(imports, [], []);
    expect(rest).toEqual([]);
    expect(problem).toContain('cycle between market/, store/');
    expect(problem).toContain('store/ → market/ (store/ticks.ts imports market/y.ts)');
    expect(check(imports, [{ file: 'store/ticks.ts', to: 'market/' }], [])).toEqual([]);
    expect(check(imports.slice(0, 1), [{ file: 'store/ticks.ts', to: 'market/' }], [])).toEqual([
      'store/ticks.ts no longer imports market/: delete its entry from ALLOWED',
    ]);
  });

  it('reads the graph from the files: folders, top-level files, a sibling, type and dynamic imports; no tests', () => {
    const root = join(
      lay('graph', {
        'server/market/feed.ts':
          "import type { X } from '../store/ticks.ts';\nimport { y } from './ring.ts';\n",
        'server/market/ring.ts': "export const load = () => import('../config.ts');\n",
        'server/store/ticks.ts': "import { b3Day } from '../market/feed.ts';\nimport { z } from 'zod';\n",
        'server/config.ts': "export { RING_MIN } from '../native/captureRing.ts';\n",
        'server/store/ticks.test.ts': "import { http } from '../http/uws.ts';\n",
        'native/captureRing.ts': 'export const RING_MIN = 1;\n',
      }),
      'server',
    );
    const imports = importGraph(root, ['.', '../native']);
    expect(imports).toEqual([
      {
        from: 'config.ts',
        to: 'native/',
        file: 'config.ts',
        target: '../native/captureRing.ts',
        typeOnly: false,
      },
      { from: 'market/', to: 'store/', file: 'market/feed.ts', target: 'store/ticks.ts', typeOnly: true },
      { from: 'market/', to: 'config.ts', file: 'market/ring.ts', target: 'config.ts', typeOnly: false },
      { from: 'store/', to: 'market/', file: 'store/ticks.ts', target: 'market/feed.ts', typeOnly: false },
    ]);
    expect(check(imports, [], [])).toEqual([
      'cycle between market/, store/:\n' +
        '  market/ → store/ (market/feed.ts imports store/ticks.ts)\n' +
        '  store/ → market/ (store/ticks.ts imports market/feed.ts)',
    ]);
  });

  it('finds the native files that load koffi: a value import of it or of a file that loads it', () => {
    const root = join(
      lay('loaders', {
        'native/binding.ts': "import koffi from 'koffi';\n",
        'native/sim.ts':
          "import type { LibraryHandle } from 'koffi';\nimport { declare } from './binding.ts';\n",
        'native/profitdll.ts': "import { simControls } from './sim.ts';\nimport { NL } from './errors.ts';\n",
        'native/types.ts': "import type { Fn } from './binding.ts';\n",
        'native/errors.ts': "import type { LibraryHandle } from 'koffi';\n",
        'native/records.ts': 'export const RECORD_BYTES = 256;\n',
        'native/binding.test.ts': "import koffi from 'koffi';\n",
        'server/server.ts': "import { ProfitConnector } from '../native/profitdll.ts';\n",
      }),
      'server',
    );
    expect(koffiLoaders(root, '../native')).toEqual([
      '../native/binding.ts',
      '../native/profitdll.ts',
      '../native/sim.ts',
    ]);
  });

  it('lets only the composition root load the binding; its types may be imported anywhere', () => {
    const root = join(
      lay('binding', {
        'server/server.ts': "import { ProfitConnector } from '../native/profitdll.ts';\n",
        'server/orders/router.ts':
          "import type { ProfitConnector } from '../../native/profitdll.ts';\nimport type { DllOrder } from '../../native/types.ts';\n",
        'server/orders/manager.ts':
          "import { type AccountRef, ProfitDllError } from '../../native/profitdll.ts';\n",
        'server/orders/wire.ts': "import { OrderSide } from '../../native/types.ts';\n",
        'server/market/feed.ts': "import { type Fn } from '../../native/binding.ts';\n",
        'server/market/capture.ts': "import { decodeRecord } from '../../native/records.ts';\n",
        'server/orders/errors.ts': "import { NL } from '../../native/errors.ts';\n",
        'server/testing/sim.ts':
          "import type { LibraryHandle } from 'koffi';\nimport { simControls } from '../../native/simControls.ts';\n",
        'native/binding.ts': "import koffi from 'koffi';\nimport { NL } from './errors.ts';\n",
        'native/simControls.ts': "import { declareTypes } from './binding.ts';\n",
        'native/profitdll.ts':
          "import { bindDll } from './binding.ts';\nimport { simControls } from './simControls.ts';\n",
        'native/records.ts': 'export const RECORD_BYTES = 256;\n',
        'native/types.ts': 'export const OrderSide = {};\n',
        'native/errors.ts': 'export const NL = {};\n',
      }),
      'server',
    );
    const loaders = koffiLoaders(root, '../native');
    const problems = check(importGraph(root, ['.', '../native']), [], loaders);
    expect(problems.map((p) => p.split(' ')[0])).toEqual([
      'market/feed.ts',
      'orders/manager.ts',
      'testing/sim.ts',
    ]);
    expect(problems[0]).toContain('market/feed.ts loads koffi (a value import of native/binding.ts)');
    expect(problems[1]).toContain('orders/manager.ts loads koffi (a value import of native/profitdll.ts)');
    expect(problems[2]).toContain('testing/sim.ts loads koffi (a value import of native/simControls.ts)');
  });
});
