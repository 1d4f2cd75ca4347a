import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { type Entry, en, pt } from './messages.ts';

// Every word on screen goes through the catalogue: the components are read with the TypeScript
// compiler, and any JSX text with a letter in it, or a literal with one given to an attribute or
// prop the user sees, is named by file and line. The tables themselves: the same ids in both
// languages, the same placeholders, no Portuguese left as its id.

const APP = join(import.meta.dirname, '..');

/** Attributes and props whose value the user reads (data-label: the phone's card layout shows it). */
const VISIBLE = new Set([
  'title',
  'aria-label',
  'aria-description',
  'aria-roledescription',
  'placeholder',
  'alt',
  'label',
  'data-label',
  'none',
  'text',
]);

/**
 * Literals with letters that are not words to translate: the product's name and the names of
 * things that are the same in every language. Symbols and numbers ('—', '×', '▲', '#') have no
 * letter and pass without being listed.
 */
const ALLOWED = new Set(['Tape', 'LLM', 'VWAP', 'TAPE_ROUTING=off']);

const hasLetter = (s: string) => /\p{L}/u.test(s);

function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsxFiles(path);
    return e.name.endsWith('.tsx') ? [path] : [];
  });
}

/** The literal text an expression can put on screen (not what a call such as t() makes of its arguments). */
function shownLiterals(e: ts.Expression): ts.Node[] {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [e];
  if (ts.isTemplateExpression(e)) return [e.head, ...e.templateSpans.map((s) => s.literal)];
  if (ts.isParenthesizedExpression(e)) return shownLiterals(e.expression);
  if (ts.isConditionalExpression(e)) return [...shownLiterals(e.whenTrue), ...shownLiterals(e.whenFalse)];
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    if (op === ts.SyntaxKind.AmpersandAmpersandToken) return shownLiterals(e.right);
    if (
      op === ts.SyntaxKind.BarBarToken ||
      op === ts.SyntaxKind.QuestionQuestionToken ||
      op === ts.SyntaxKind.PlusToken
    )
      return [...shownLiterals(e.left), ...shownLiterals(e.right)];
  }
  return [];
}

const literalText = (n: ts.Node) =>
  ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateLiteralToken(n)
    ? n.text
    : '';

const attributeName = (n: ts.JsxAttributeName) =>
  ts.isIdentifier(n) ? n.text : `${n.namespace.text}:${n.name.text}`;

/** "file:line text" for each untranslated text of one component file. */
export function untranslated(file: string, source: string): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const report = (n: ts.Node, text: string) => {
    const t = text.trim();
    // A message id (a table of labels names them: t() says them) goes through the catalogue.
    if (!hasLetter(t) || ALLOWED.has(t) || Object.hasOwn(pt, t)) return;
    const line = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    found.push(`${relative(APP, file)}:${line} ${JSON.stringify(t)}`);
  };
  const visit = (n: ts.Node) => {
    if (ts.isJsxText(n)) report(n, n.text);
    else if (
      ts.isJsxExpression(n) &&
      n.expression &&
      (ts.isJsxElement(n.parent) || ts.isJsxFragment(n.parent))
    )
      for (const l of shownLiterals(n.expression)) report(l, literalText(l));
    else if (ts.isJsxAttribute(n) && VISIBLE.has(attributeName(n.name)) && n.initializer) {
      const init = n.initializer;
      if (ts.isStringLiteral(init)) report(init, init.text);
      else if (ts.isJsxExpression(init) && init.expression)
        for (const l of shownLiterals(init.expression)) report(l, literalText(l));
    } else if (
      ts.isPropertyAssignment(n) &&
      (ts.isIdentifier(n.name) || ts.isStringLiteral(n.name)) &&
      VISIBLE.has(n.name.text)
    )
      // A table of labels or titles (a column's, a field's) that a component shows.
      for (const l of shownLiterals(n.initializer)) report(l, literalText(l));
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

const placeholders = (e: Entry) =>
  [
    ...new Set((typeof e === 'string' ? [e] : [e.one, e.other]).flatMap((s) => s.match(/\{\w+\}/g) ?? [])),
  ].sort();

describe('the interface speaks through the catalogue', () => {
  it('every JSX text and visible attribute of app/**/*.tsx is a message', () => {
    const files = tsxFiles(APP);
    expect(files.length).toBeGreaterThan(30);
    const found = files.flatMap((f) => untranslated(f, readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  it('finds text, visible attributes and label tables, and lets ids, class names and symbols pass', () => {
    const source = `
      const COLUMNS = [{ key: 'Last', label: 'Last' }, { key: 'Bid', label: 'quotes.bid' }];
      export const A = ({ n }: { n: number }) => (
        <section className="panel" data-testid="x" aria-label="Quotes">
          Orders
          <b title={n ? 'Hide' : t('a.b')}>{n > 1 ? \`\${n} trades\` : '—'}</b>
          <input placeholder={t('x.y')} name="username" />
          {t('ok.id')} · ▲ {n && 'Live'} Tape
        </section>
      );`;
    expect(untranslated(join(APP, 'x.tsx'), source)).toEqual([
      'x.tsx:2 "Last"',
      'x.tsx:4 "Quotes"',
      'x.tsx:5 "Orders"',
      'x.tsx:6 "Hide"',
      'x.tsx:6 "trades"',
      'x.tsx:8 "Live"',
    ]);
  });
});

describe('the catalogue', () => {
  it('has the same ids in Portuguese and English', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(pt).sort());
  });

  it('has the same placeholders and the same shape (text or plural) in both', () => {
    const mismatched = Object.entries(pt).filter(([id, p]) => {
      const e = en[id as keyof typeof en];
      return typeof p !== typeof e || placeholders(p).join() !== placeholders(e).join();
    });
    expect(mismatched.map(([id]) => id)).toEqual([]);
  });

  it('says every Portuguese message in words, never as its id or empty', () => {
    const forms = (e: Entry) => (typeof e === 'string' ? [e] : [e.one, e.other]);
    const bad = Object.entries(pt).filter(([id, p]) => forms(p).some((s) => s.trim() === '' || s === id));
    expect(bad.map(([id]) => id)).toEqual([]);
    expect(
      Object.values(en)
        .flatMap(forms)
        .filter((s) => s.trim() === ''),
    ).toEqual([]);
  });
});
