// What biome.json's noRestrictedImports cannot see of the server's layering, checked on its
// import graph (sync-server/ and native/ beside it; tests, *.test.ts, left out: they wire
// folders together on purpose). `npm run lint` runs it.
// - No cycle between capability folders: one node per folder (a top-level file is a node of its
//   own); a cycle is printed with the imports that close it.
// - Only the composition root loads the binding: a value import of a native/ file that loads
//   koffi (imports it, or a native/ file that does, as a value) loads it too, so outside native/
//   and server.ts those files are imported with `import type` alone.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** One import of a file of one node by a file of another (paths relative to the root). */
export interface Import {
  readonly from: string;
  readonly to: string;
  readonly file: string;
  readonly target: string;
  /** `import type` / `export type … from`: erased, so the target is not loaded. */
  readonly typeOnly: boolean;
}

export interface Allowance {
  readonly file: string;
  readonly to: string;
  readonly why: string;
}

/**
 * Imports that close a cycle today, each named by its file and to be cut by later work: the
 * check leaves them out, and fails on an entry that no longer matches an import.
 */
export const ALLOWED: readonly Allowance[] = [];

/** The one file outside native/ that may load the binding. */
export const COMPOSITION_ROOT = 'server.ts';

/**
 * The node a file belongs to: its folder under the root, or the file itself at the top; a file
 * of a sibling of the root (`../native/x.ts`) belongs to that sibling (`native/`).
 */
export function nodeOf(root: string, file: string): string {
  const parts = relative(root, file).split(sep);
  if (parts[0] === '..') parts.shift();
  return parts.length > 1 ? `${parts[0]}/` : (parts[0] as string);
}

/** The imports of a file's text (import, export … from, import()), packages too, as written. */
function specifiersOf(text: string): { spec: string; typeOnly: boolean }[] {
  const out: { spec: string; typeOnly: boolean }[] = [];
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier) {
      const typeOnly = ts.isImportDeclaration(n) ? n.importClause?.isTypeOnly === true : n.isTypeOnly;
      if (ts.isStringLiteral(n.moduleSpecifier)) out.push({ spec: n.moduleSpecifier.text, typeOnly });
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = n.arguments;
      if (arg && ts.isStringLiteralLike(arg)) out.push({ spec: arg.text, typeOnly: false });
    }
    ts.forEachChild(n, visit);
  };
  visit(ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TSX));
  return out;
}

/** The relative imports of a file's text (import, export … from, import()), as written. */
export function importsOf(text: string): { spec: string; typeOnly: boolean }[] {
  return specifiersOf(text).filter((i) => i.spec.startsWith('.'));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' ? [] : sourceFiles(path);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [path] : [];
  });
}

/** The imports between nodes of the files under `dirs` (relative to `root`; siblings of it too). */
export function importGraph(root: string, dirs: readonly string[]): Import[] {
  const out: Import[] = [];
  for (const path of dirs.flatMap((d) => sourceFiles(join(root, d))).sort()) {
    const from = nodeOf(root, path);
    for (const { spec, typeOnly } of importsOf(readFileSync(path, 'utf8'))) {
      const target = resolve(dirname(path), spec);
      if (relative(dirname(root), target).startsWith('..')) continue; // outside the root's parent
      const to = nodeOf(root, target);
      if (to !== from)
        out.push({ from, to, file: relative(root, path), target: relative(root, target), typeOnly });
    }
  }
  return out;
}

/**
 * The files under `dir` (tests left out) that load koffi: each imports koffi, or a file that
 * loads it, as a value. Paths relative to `root`, as an Import's target has them.
 */
export function koffiLoaders(root: string, dir: string): string[] {
  const values = new Map<string, string[]>();
  for (const path of sourceFiles(join(root, dir))) {
    const specs = specifiersOf(readFileSync(path, 'utf8')).filter((i) => !i.typeOnly);
    values.set(
      path,
      specs.map((i) => (i.spec.startsWith('.') ? resolve(dirname(path), i.spec) : i.spec)),
    );
  }
  const loads = new Set(['koffi']);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [path, targets] of values) {
      if (loads.has(path) || !targets.some((t) => loads.has(t))) continue;
      loads.add(path);
      grew = true;
    }
  }
  return [...values.keys()]
    .filter((p) => loads.has(p))
    .map((p) => relative(root, p))
    .sort();
}

/** The strongly connected components of more than one node (Tarjan's): each holds a cycle. */
export function cycles(edges: readonly Pick<Import, 'from' | 'to'>[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (n: string) => {
    const i = index.size;
    index.set(n, i);
    low.set(n, i);
    stack.push(n);
    for (const m of next.get(n) ?? []) {
      if (!index.has(m)) visit(m);
      if (stack.includes(m)) low.set(n, Math.min(low.get(n) as number, low.get(m) as number));
    }
    if (low.get(n) !== i) return;
    const scc = stack.splice(stack.indexOf(n));
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const n of [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort()) if (!index.has(n)) visit(n);
  return out;
}

/**
 * What is wrong: each cycle left once the allowed imports are out, each stale allowance, and
 * each file outside native/ and the composition root that loads the binding (a value import of
 * one of `loaders`, the files koffiLoaders found).
 */
export function check(
  imports: readonly Import[],
  allowed: readonly Omit<Allowance, 'why'>[],
  loaders: readonly string[],
): string[] {
  const isAllowed = (i: Import) => allowed.some((a) => a.file === i.file && a.to === i.to);
  const kept = imports.filter((i) => !isAllowed(i));
  const problems = cycles(kept).map((scc) => {
    const inside = kept.filter((i) => scc.includes(i.from) && scc.includes(i.to));
    const lines = inside.map((i) => `  ${i.from} → ${i.to} (${i.file} imports ${i.target})`);
    return `cycle between ${scc.join(', ')}:\n${lines.join('\n')}`;
  });
  for (const a of allowed) {
    if (!imports.some((i) => i.file === a.file && i.to === a.to))
      problems.push(`${a.file} no longer imports ${a.to}: delete its entry from ALLOWED`);
  }
  for (const i of imports) {
    if (loaders.includes(i.target) && !i.typeOnly && i.file !== COMPOSITION_ROOT)
      problems.push(
        `${i.file} loads koffi (a value import of ${i.target.replace(/^\.\.\//, '')}): only ${COMPOSITION_ROOT} does; ` +
          "import it with `import type`; the records, the DLL's types and its codes are plain values " +
          'in native/records.ts, types.ts and errors.ts',
      );
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'sync-server');
  const imports = importGraph(root, ['.', '../native']);
  const problems = check(imports, ALLOWED, koffiLoaders(root, '../native'));
  for (const p of problems) console.error(p);
  if (problems.length > 0) process.exit(1);
  const nodes = new Set(imports.flatMap((i) => [i.from, i.to])).size;
  console.log(
    `layers: ${imports.length} imports between ${nodes} folders and files of sync-server/, no cycle`,
  );
}
