import type { Principal } from '../auth/tokens.ts';
import { type RoomRole, roomName, roomRole } from './access.ts';
import type { CollabHub } from './hub.ts';
import type { DocKind, DocRelation, DocumentRow, MemberRole, MemberRow } from './model.ts';
import type { DocumentRepository } from './storage.ts';

// Who may do what to a shared document, outside the live room: create, list, read, rename,
// share, unshare, delete. Owners manage; editors rename; viewers and admins read.

export class CollabError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SharedDocument extends DocumentRow {
  /** The y-websocket room: connect to `/yjs/<room>`. */
  readonly room: string;
  readonly relation: DocRelation | undefined;
  readonly role: RoomRole;
  /** Present for the owner and admins. */
  readonly members?: readonly MemberRow[];
}

export class SharedDocuments {
  constructor(
    private readonly store: DocumentRepository,
    private readonly hub: CollabHub,
    readonly kind: DocKind,
  ) {}

  async create(p: Principal, name: string): Promise<SharedDocument> {
    if (p.role === 'viewer') throw new CollabError(403, 'forbidden', `Viewers cannot create a ${this.kind}`);
    const doc = await this.store.create(this.kind, name, p.userId);
    return { ...doc, room: roomName(doc.kind, doc.id), relation: 'owner', role: 'editor', members: [] };
  }

  async list(p: Principal): Promise<SharedDocument[]> {
    const docs = await this.store.listFor(p.userId, this.kind);
    return docs.map((d) => ({
      ...d,
      room: roomName(d.kind, d.id),
      role: roomRole(p, d.relation) ?? 'viewer',
    }));
  }

  async get(p: Principal, id: number): Promise<SharedDocument> {
    const { doc, relation, role } = await this.open(p, id);
    const members = relation === 'owner' || p.role === 'admin' ? await this.store.members(id) : undefined;
    return { ...doc, room: roomName(doc.kind, doc.id), relation, role, ...(members ? { members } : {}) };
  }

  async rename(p: Principal, id: number, name: string): Promise<SharedDocument> {
    const { role } = await this.open(p, id);
    if (role !== 'editor')
      throw new CollabError(403, 'read_only', `You can read this ${this.kind} but not rename it`);
    await this.store.rename(id, name);
    return this.get(p, id);
  }

  async share(p: Principal, id: number, username: string, role: MemberRole): Promise<SharedDocument> {
    const doc = await this.owned(p, id, 'share');
    const user = await this.store.userByName(username);
    if (!user || user.disabled)
      throw new CollabError(404, 'unknown_user', `No active user named "${username}"`);
    if (user.id === doc.ownerId)
      throw new CollabError(409, 'owner', `${username} owns this ${this.kind} already`);
    await this.store.share(id, user.id, role);
    // A downgrade to viewer takes effect in the open room at once.
    await this.hub.reauthorize(id);
    return this.get(p, id);
  }

  /** The owner removes anyone; a member may remove themselves (leave). */
  async unshare(p: Principal, id: number, username: string): Promise<void> {
    const { doc, relation } = await this.open(p, id);
    const user = await this.store.userByName(username);
    if (relation !== 'owner' && user?.id !== p.userId)
      throw new CollabError(403, 'not_owner', `Only the owner of this ${this.kind} can remove other members`);
    if (!user || !(await this.store.unshare(doc.id, user.id)))
      throw new CollabError(404, 'not_a_member', `${username} is not a member of this ${this.kind}`);
    await this.hub.reauthorize(id);
  }

  async remove(p: Principal, id: number): Promise<void> {
    await this.owned(p, id, 'delete');
    await this.store.remove(id);
    await this.hub.reauthorize(id);
  }

  /** The document if `p` may read it; a 404 otherwise, so strangers learn nothing. */
  private async open(p: Principal, id: number) {
    const access = await this.store.access(id, p.userId);
    const role = access && access.doc.kind === this.kind ? roomRole(p, access.relation) : undefined;
    if (!access || !role) throw new CollabError(404, 'not_found', `No ${this.kind} ${id} shared with you`);
    return { doc: access.doc, relation: access.relation, role };
  }

  private async owned(p: Principal, id: number, what: string): Promise<DocumentRow> {
    const { doc, relation } = await this.open(p, id);
    if (relation !== 'owner')
      throw new CollabError(403, 'not_owner', `Only the owner of this ${this.kind} can ${what} it`);
    return doc;
  }
}
