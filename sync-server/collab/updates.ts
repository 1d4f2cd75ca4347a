import * as Y from 'yjs';

// Questions the hub asks about a Yjs update before it accepts one.

/**
 * True when applying `update` would change `doc`: it carries structs past the doc's state
 * vector, or deletes something the doc has not deleted. A client's sync step 2 usually repeats
 * what the server has; such a no-op is neither stored nor refused. Throws on a malformed update.
 */
export function changesDoc(doc: Y.Doc, update: Uint8Array): boolean {
  // Decodes all of it, delete set included: a bad tail must not half-apply later.
  const { structs, ds } = Y.decodeUpdate(update);
  for (const s of structs) {
    if (!(s instanceof Y.Skip) && s.id.clock + s.length > Y.getState(doc.store, s.id.client)) return true;
  }
  if (ds.clients.size === 0) return false;
  const deleted = Y.createDeleteSetFromStructStore(doc.store);
  for (const [client, ranges] of ds.clients) {
    // The doc's ranges are sorted and merged: a covered range lies inside one of them.
    const have = deleted.clients.get(client) ?? [];
    for (const r of ranges) {
      if (r.len === 0) continue;
      const inside = have.some((h) => h.clock <= r.clock && r.clock + r.len <= h.clock + h.len);
      if (!inside) return true;
    }
  }
  return false;
}
