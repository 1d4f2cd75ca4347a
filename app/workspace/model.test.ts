import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WORKSPACE,
  hide,
  MAX_WIDTH,
  MIN_HEIGHT,
  move,
  normalize,
  PANELS,
  type PanelId,
  setHeight,
  setWidth,
  show,
  type Workspace,
} from './model.ts';

/** Every panel once: in a column or hidden. */
const partition = (ws: Workspace) => {
  const all = [...ws.columns.flatMap((c) => c.panels), ...ws.hidden];
  expect([...all].sort()).toEqual([...PANELS].sort());
};

describe('workspace model', () => {
  it('moves a panel within its column and across, and hides and shows it', () => {
    let ws = move(DEFAULT_WORKSPACE, 'tape', 'up');
    expect(ws.columns[1].panels).toEqual(['tape', 'chart', 'blotter']);
    ws = move(ws, 'tape', 'right');
    expect(ws.columns[1].panels).toEqual(['chart', 'blotter']);
    expect(ws.columns[2].panels).toEqual(['tape', 'ladder', 'ticket', 'alerts']);
    // At an edge a move does nothing.
    expect(move(ws, 'tape', 'right')).toBe(ws);
    expect(move(ws, 'tape', 'up')).toBe(ws);
    ws = hide(ws, 'ladder');
    expect(ws.columns[2].panels).not.toContain('ladder');
    expect(ws.hidden).toEqual(['ladder']);
    ws = show(ws, 'ladder');
    expect(ws.columns[2].panels.at(-1)).toBe('ladder');
    expect(ws.hidden).toEqual([]);
  });

  it('keeps widths and heights within bounds', () => {
    expect(setWidth(DEFAULT_WORKSPACE, 0, 99).columns[0].width).toBe(MAX_WIDTH);
    expect(setWidth(DEFAULT_WORKSPACE, 1, 1.234).columns[1].width).toBe(1.2);
    expect(setWidth(DEFAULT_WORKSPACE, 5, 2)).toBe(DEFAULT_WORKSPACE);
    expect(setHeight(DEFAULT_WORKSPACE, 'chart', 10).heights.chart).toBe(MIN_HEIGHT);
    expect(setHeight(setHeight(DEFAULT_WORKSPACE, 'chart', 500), 'chart', undefined).heights).toEqual({});
  });

  it('repairs what an older version stored: unknown panels go, new ones come to their column', () => {
    const ws = normalize({
      columns: [{ width: 2, panels: ['chart', 'gone', 'chart'] }, { width: 'x' }, null],
      hidden: ['quotes', 7],
      heights: { chart: 420, nope: 3, tape: 'tall' },
    });
    partition(ws);
    expect(ws.columns[0]).toEqual({ width: 2, panels: ['chart', 'flow', 'positions'] });
    expect(ws.columns[1].width).toBe(1.5);
    expect(ws.hidden).toEqual(['quotes']);
    expect(ws.heights).toEqual({ chart: 420 });
    expect(normalize(undefined)).toEqual(DEFAULT_WORKSPACE);
    expect(normalize('garbage')).toEqual(DEFAULT_WORKSPACE);
  });

  it('property: any run of moves, hides, shows and resizes keeps every panel exactly once, and survives storing', () => {
    const panel = fc.constantFrom(...PANELS);
    const op = fc.oneof(
      fc.record({
        k: fc.constant('move' as const),
        id: panel,
        dir: fc.constantFrom('up', 'down', 'left', 'right'),
      }),
      fc.record({ k: fc.constant('hide' as const), id: panel }),
      fc.record({ k: fc.constant('show' as const), id: panel }),
      fc.record({ k: fc.constant('width' as const), col: fc.integer({ min: -1, max: 3 }), w: fc.double() }),
      fc.record({
        k: fc.constant('height' as const),
        id: panel,
        px: fc.option(fc.double(), { nil: undefined }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        let ws: Workspace = DEFAULT_WORKSPACE;
        for (const o of ops) {
          if (o.k === 'move') ws = move(ws, o.id as PanelId, o.dir as 'up');
          else if (o.k === 'hide') ws = hide(ws, o.id);
          else if (o.k === 'show') ws = show(ws, o.id);
          else if (o.k === 'width') ws = setWidth(ws, o.col, o.w);
          else ws = setHeight(ws, o.id, o.px);
          partition(ws);
        }
        // What the device stores and reads back is the same workspace.
        expect(normalize(JSON.parse(JSON.stringify(ws)))).toEqual(ws);
      }),
      { numRuns: 500 },
    );
  });

  it('property: normalize makes a partition of any stored value', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        partition(normalize(v));
      }),
      { numRuns: 500 },
    );
  });
});
