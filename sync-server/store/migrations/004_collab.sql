-- Shared Yjs documents (watchlists, layouts, notes), their members, and their CRDT state:
-- an append-only log of updates plus one compacted snapshot per document.
create table collab_documents (
  id          bigint generated always as identity primary key,
  kind        text not null check (kind in ('watchlist', 'layout', 'note')),
  name        text not null check (char_length(name) between 1 and 100),
  owner_id    bigint not null references users(id),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  deleted_at  timestamptz
);
create index collab_documents_owner on collab_documents(owner_id) where deleted_at is null;

-- The owner is not a member row: ownership lives on the document.
create table collab_members (
  doc_id     bigint not null references collab_documents(id) on delete cascade,
  user_id    bigint not null references users(id) on delete cascade,
  role       text not null check (role in ('editor', 'viewer')),
  added_at   timestamptz not null default now(),
  primary key (doc_id, user_id)
);
create index collab_members_user on collab_members(user_id);

-- Appended as updates arrive; compaction merges rows into the snapshot and deletes exactly
-- the rows it merged (by id), so an append that commits during a compaction is never lost.
create table collab_updates (
  id         bigint generated always as identity primary key,
  doc_id     bigint not null references collab_documents(id) on delete cascade,
  payload    bytea not null,
  created_at timestamptz not null default now()
);
create index collab_updates_doc on collab_updates(doc_id, id);

create table collab_snapshots (
  doc_id        bigint primary key references collab_documents(id) on delete cascade,
  state         bytea not null,
  -- How many update rows have been folded in, over the document's life (for operators).
  merged_rows   bigint not null default 0,
  compacted_at  timestamptz not null default now()
);
