import type { Principal } from '../auth/tokens.ts';
import type { DocKind, DocRelation } from './model.ts';
import { YjsClose } from './protocol.ts';
import type { CollabStorage } from './storage.ts';

// Who may be in a document's room, and as what: checked when a socket joins, and again for
// every socket in the room after a share, unshare or delete.

export type RoomRole = 'editor' | 'viewer';

const ROOM = /^(watchlist|layout|note):([1-9][0-9]{0,14})$/;

/** `watchlist:42` → the document's kind and id; undefined for anything else. */
export function parseRoomName(name: string): { kind: DocKind; id: number } | undefined {
  const m = ROOM.exec(name);
  return m ? { kind: m[1] as DocKind, id: Number(m[2]) } : undefined;
}
export const roomName = (kind: DocKind, id: number) => `${kind}:${id}`;

/**
 * The role a principal gets in a document, or undefined when they may not open it. Owners and
 * editor members edit; viewer members read; admins read every document; a user whose app role
 * is viewer only ever reads.
 */
export function roomRole(principal: Principal, relation: DocRelation | undefined): RoomRole | undefined {
  const role: RoomRole | undefined =
    relation === 'owner' || relation === 'editor'
      ? 'editor'
      : relation === 'viewer' || principal.role === 'admin'
        ? 'viewer'
        : undefined;
  return role && principal.role === 'viewer' ? 'viewer' : role;
}

/** The final close that tells a socket why it may not be in a room. */
export interface Refusal {
  readonly code: number;
  readonly reason: string;
}
/** The role a socket has in a room, or why it may not be there. */
export type Admission = { readonly role: RoomRole } | Refusal;

/** The close for a room name that names no document. */
export const unknownRoom = (name: string): Refusal => ({
  code: YjsClose.notFound,
  reason: `unknown room "${name.slice(0, 60)}": rooms are named <kind>:<id>, e.g. watchlist:42`,
});

/** Whether `principal` may join the room of document `kind:id`, and as what. */
export async function admit(
  store: Pick<CollabStorage, 'access'>,
  principal: Principal,
  kind: DocKind,
  id: number,
): Promise<Admission> {
  const access = await store.access(id, principal.userId);
  if (!access || access.doc.kind !== kind)
    return { code: YjsClose.notFound, reason: `no ${kind} ${id} (deleted, or never created)` };
  return grant(principal, access.relation, `${roomName(kind, id)} is not shared with you`);
}

/** After a share, unshare or delete: whether `principal` may stay in document `id`'s room, and as what. */
export async function recheck(
  store: Pick<CollabStorage, 'access'>,
  principal: Principal,
  id: number,
): Promise<Admission> {
  const access = await store.access(id, principal.userId);
  if (!access) return { code: YjsClose.notFound, reason: 'this document was deleted' };
  return grant(principal, access.relation, 'this document is no longer shared with you');
}

function grant(principal: Principal, relation: DocRelation | undefined, refusal: string): Admission {
  const role = roomRole(principal, relation);
  return role ? { role } : { code: YjsClose.forbidden, reason: refusal };
}
