// The Trade screen's arrangement, as the trader sets it: three columns of panels, each column
// its share of the width, each panel in one column or hidden, a panel's height when the trader
// set one. Pure functions of a plain value, kept per user on the device (store.ts).

export const PANELS = [
  'quotes',
  'chart',
  'ladder',
  'tape',
  'flow',
  'ticket',
  'blotter',
  'positions',
  'alerts',
] as const;
export type PanelId = (typeof PANELS)[number];

export interface Column {
  /** Share of the width (CSS fr), MIN_WIDTH..MAX_WIDTH. */
  readonly width: number;
  readonly panels: readonly PanelId[];
}

export interface Workspace {
  readonly columns: readonly [Column, Column, Column];
  readonly hidden: readonly PanelId[];
  /** Heights in px the trader dragged a panel to; absent: as tall as its content. */
  readonly heights: Readonly<Partial<Record<PanelId, number>>>;
}

export const MIN_WIDTH = 0.5;
export const MAX_WIDTH = 3;
export const MIN_HEIGHT = 120;
export const MAX_HEIGHT = 1_600;

/** Where Tape puts things before the trader moves them: what Profit's day-trade layout has. */
export const DEFAULT_WORKSPACE: Workspace = Object.freeze<Workspace>({
  columns: [
    // At 1440 px the first column holds the board beside the chart with its Time column.
    { width: 1.3, panels: ['quotes', 'flow', 'positions'] },
    { width: 1.5, panels: ['chart', 'tape', 'blotter'] },
    { width: 1, panels: ['ladder', 'ticket', 'alerts'] },
  ],
  hidden: [],
  heights: {},
});

const homeColumn = (id: PanelId) => DEFAULT_WORKSPACE.columns.findIndex((c) => c.panels.includes(id));
const isPanel = (v: unknown): v is PanelId =>
  typeof v === 'string' && (PANELS as readonly string[]).includes(v);
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * Any stored value as a workspace: every panel exactly once, in a column or hidden. What an
 * older version stored (a panel it did not have, one it no longer has, a wrong shape) is
 * repaired, never trusted: new panels go to their default column.
 */
export function normalize(value: unknown): Workspace {
  const v = (value ?? {}) as { columns?: unknown; hidden?: unknown; heights?: unknown };
  const seen = new Set<PanelId>();
  const take = (list: unknown): PanelId[] =>
    (Array.isArray(list) ? list : []).filter((id): id is PanelId => {
      if (!isPanel(id) || seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  const stored = Array.isArray(v.columns) ? v.columns : [];
  const columns = DEFAULT_WORKSPACE.columns.map((d, i) => {
    const c = (stored[i] ?? {}) as { width?: unknown; panels?: unknown };
    const width =
      typeof c.width === 'number' && Number.isFinite(c.width)
        ? clamp(c.width, MIN_WIDTH, MAX_WIDTH)
        : d.width;
    return { width, panels: take(c.panels) };
  });
  const hidden = take(v.hidden);
  for (const id of PANELS) if (!seen.has(id)) columns[homeColumn(id)]?.panels.push(id);
  const heights: Partial<Record<PanelId, number>> = {};
  const h = (v.heights ?? {}) as Record<string, unknown>;
  for (const id of PANELS) {
    const px = h[id];
    if (typeof px === 'number' && Number.isFinite(px))
      heights[id] = Math.round(clamp(px, MIN_HEIGHT, MAX_HEIGHT));
  }
  return { columns: columns as unknown as Workspace['columns'], hidden, heights };
}

function locate(ws: Workspace, id: PanelId): [number, number] | undefined {
  for (let c = 0; c < ws.columns.length; c++) {
    const i = (ws.columns[c] as Column).panels.indexOf(id);
    if (i >= 0) return [c, i];
  }
  return undefined;
}

const withColumns = (ws: Workspace, columns: Column[]): Workspace => ({
  ...ws,
  columns: columns as unknown as Workspace['columns'],
});

/** One step up or down its column, or to the same place in the column beside it. */
export function move(ws: Workspace, id: PanelId, dir: 'up' | 'down' | 'left' | 'right'): Workspace {
  const at = locate(ws, id);
  if (!at) return ws;
  const [c, i] = at;
  const columns = ws.columns.map((col) => ({ ...col, panels: [...col.panels] }));
  const from = columns[c] as { width: number; panels: PanelId[] };
  if (dir === 'up' || dir === 'down') {
    const j = dir === 'up' ? i - 1 : i + 1;
    if (j < 0 || j >= from.panels.length) return ws;
    [from.panels[i], from.panels[j]] = [from.panels[j] as PanelId, id];
    return withColumns(ws, columns);
  }
  const to = columns[dir === 'left' ? c - 1 : c + 1];
  if (!to) return ws;
  from.panels.splice(i, 1);
  to.panels.splice(Math.min(i, to.panels.length), 0, id);
  return withColumns(ws, columns);
}

export function hide(ws: Workspace, id: PanelId): Workspace {
  const at = locate(ws, id);
  if (!at) return ws;
  const columns = ws.columns.map((col, c) =>
    c === at[0] ? { ...col, panels: col.panels.filter((p) => p !== id) } : col,
  );
  return { ...withColumns(ws, columns), hidden: [...ws.hidden, id] };
}

/** Back at the foot of its default column. */
export function show(ws: Workspace, id: PanelId): Workspace {
  if (!ws.hidden.includes(id)) return ws;
  const home = homeColumn(id);
  const columns = ws.columns.map((col, c) => (c === home ? { ...col, panels: [...col.panels, id] } : col));
  return { ...withColumns(ws, columns), hidden: ws.hidden.filter((p) => p !== id) };
}

export function setWidth(ws: Workspace, column: number, width: number): Workspace {
  if (!ws.columns[column] || !Number.isFinite(width)) return ws;
  const w = Math.round(clamp(width, MIN_WIDTH, MAX_WIDTH) * 10) / 10;
  return withColumns(
    ws,
    ws.columns.map((col, c) => (c === column ? { ...col, width: w } : col)),
  );
}

/** A height in px, or undefined for as tall as its content. */
export function setHeight(ws: Workspace, id: PanelId, px: number | undefined): Workspace {
  const heights = { ...ws.heights };
  if (px === undefined || !Number.isFinite(px)) delete heights[id];
  else heights[id] = Math.round(clamp(px, MIN_HEIGHT, MAX_HEIGHT));
  return { ...ws, heights };
}
