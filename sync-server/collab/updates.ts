import * as Y from 'yjs';

// Questions the hub asks about a Yjs update before it accepts one.

/**
 * True when applying `update` would change `doc`: it carries structs past the doc's state
 * vector, or deletes something the doc has not deleted. A client's sync step 2 usually repeats
 * what the server has; such a no-op is neither stored nor refused. Throws on a malformed update.
 */
export function changesDoc(doc: Y.Doc, update: Uint8Array): boolean {
  // Decodes and checks all of it, delete set included: a bad tail must not half-apply later.
  const { structs, ds } = Y.decodeUpdate(update);
  for (const s of structs) if (s instanceof Y.Item) checkCausality(s);
  for (const [client, ranges] of ds.clients) {
    // Yjs never writes one; applying it throws once part of the update is in.
    if (ranges.some((r) => r.len === 0)) throw new Error(`empty delete range for client ${client}`);
  }
  for (const s of structs) {
    if (!(s instanceof Y.Skip) && s.id.clock + s.length > Y.getState(doc.store, s.id.client)) return true;
  }
  if (ds.clients.size === 0) return false;
  const deleted = Y.createDeleteSetFromStructStore(doc.store);
  for (const [client, ranges] of ds.clients) {
    // The doc's ranges are sorted and merged: a covered range lies inside one of them.
    const have = deleted.clients.get(client) ?? [];
    for (const r of ranges) {
      if (!have.some((h) => h.clock <= r.clock && r.clock + r.len <= h.clock + h.len)) return true;
    }
  }
  return false;
}

/**
 * An item can only point at what existed when it was made. Yjs assumes so for its own client
 * (an origin there is never waited for): an item whose origin, right origin or parent is itself
 * or a later clock of its own client throws half-way through integration, after the update was
 * stored, and every later load of the document would throw the same way.
 */
function checkCausality(item: Y.Item): void {
  const parent = item.parent instanceof Y.ID ? item.parent : null;
  for (const ref of [item.origin, item.rightOrigin, parent]) {
    if (ref && ref.client === item.id.client && ref.clock >= item.id.clock)
      throw new Error(
        `item ${item.id.client}:${item.id.clock} refers to ${ref.clock}, not earlier in its own history`,
      );
  }
}
