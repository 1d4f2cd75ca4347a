-- The assistant's corpus: each markdown file with its content hash, its heading-aware chunks
-- with their embeddings (float32 little-endian in bytea, whatever the vector index), and one
-- row of index state. `generation` grows whenever the corpus changes: caches key on it.
create table rag_documents (
  path         text primary key,
  hash         text not null,
  body         text not null,
  ingested_at  timestamptz not null default now()
);

create table rag_chunks (
  id             text primary key,
  path           text not null references rag_documents(path) on delete cascade,
  ordinal        int not null,
  heading        text not null,
  anchor         text not null,
  section_start  int not null,
  section_end    int not null,
  body           text not null,
  embedding      bytea not null
);
create index rag_chunks_path on rag_chunks(path, ordinal);
create index rag_chunks_anchor on rag_chunks(path, anchor);

create table rag_state (
  id                 int primary key default 1 check (id = 1),
  generation         bigint not null default 0,
  -- The embedder the stored vectors came from; another one means every chunk is embedded again.
  embedder           text,
  -- How the documents were cut (chunker version and sizes); another one re-chunks everything.
  chunking           text,
  -- The lexical embedder's IDF (float32 per bucket), refitted when enough of the corpus changed.
  idf                bytea,
  fitted_chunks      int not null default 0,
  changed_since_fit  int not null default 0,
  last_ingest_at     timestamptz,
  last_ingest        jsonb
);
insert into rag_state (id) values (1);
