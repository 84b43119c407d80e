-- The person's knowledge base (issue 11): sources (their SMS notes, a
-- Notion workspace), documents in them, and the chunks retrieval searches
-- (full text by language, and an optional embedding). Ingestion runs and a
-- per-source checkpoint make syncs incremental and observable. Every table
-- is per person, under the same row-level security as the others.

create table knowledge_sources (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null references users (id) on delete cascade,
    kind         text not null check (kind in ('notes', 'notion')),
    -- what names the source at its provider (a Notion workspace id; 'notes')
    external_id  text not null check (length(external_id) between 1 and 200),
    title        text not null default '' check (length(title) <= 300),
    -- incremental sync: the last_edited_time of the newest page seen by a
    -- finished run; pages edited before it are not fetched again
    checkpoint   timestamptz,
    created_at   timestamptz not null default now(),
    unique (user_id, kind, external_id)
);

create table knowledge_documents (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null references users (id) on delete cascade,
    source_id    uuid not null references knowledge_sources (id) on delete cascade,
    external_id  text not null check (length(external_id) between 1 and 200),
    title        text not null default '' check (length(title) <= 500),
    url          text check (length(url) <= 2000),
    last_edited  timestamptz,
    content_hash text not null check (length(content_hash) = 64),
    language     text not null default 'en' check (language in ('en', 'fr')),
    version      integer not null default 1 check (version >= 1),
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    unique (source_id, external_id)
);
create index knowledge_documents_user_idx on knowledge_documents (user_id, updated_at);

create table knowledge_chunks (
    id            uuid primary key default gen_random_uuid(),
    user_id       uuid not null references users (id) on delete cascade,
    document_id   uuid not null references knowledge_documents (id) on delete cascade,
    position      integer not null check (position >= 0),
    heading_path  text not null default '' check (length(heading_path) <= 1000),
    body          text not null check (length(body) between 1 and 8000),
    content_hash  text not null check (length(content_hash) = 64),
    language      text not null default 'en' check (language in ('en', 'fr')),
    search        tsvector generated always as (
                      to_tsvector(case language when 'fr' then 'french'::regconfig
                                                else 'english'::regconfig end,
                                  heading_path || ' ' || body)
                  ) stored,
    -- exact cosine in Rust over the person's own chunks; no extension needed
    embedding     real[],
    embed_model   text check (length(embed_model) <= 200),
    created_at    timestamptz not null default now(),
    unique (document_id, position),
    check ((embedding is null) = (embed_model is null))
);
create index knowledge_chunks_search_idx on knowledge_chunks using gin (search);
create index knowledge_chunks_user_idx on knowledge_chunks (user_id);
create index knowledge_chunks_hash_idx on knowledge_chunks (document_id, content_hash);

create table knowledge_runs (
    id             uuid primary key default gen_random_uuid(),
    user_id        uuid not null references users (id) on delete cascade,
    source_id      uuid not null references knowledge_sources (id) on delete cascade,
    status         text not null default 'queued'
                   check (status in ('queued', 'running', 'ready', 'failed', 'canceled')),
    pages_seen     integer not null default 0,
    pages_changed  integer not null default 0,
    pages_failed   integer not null default 0,
    chunks_written integer not null default 0,
    chunks_skipped integer not null default 0,
    requests       integer not null default 0,
    error          text check (length(error) <= 300),
    started_at     timestamptz,
    finished_at    timestamptz,
    created_at     timestamptz not null default now()
);
create index knowledge_runs_user_idx on knowledge_runs (user_id, created_at);
-- one live run per source: a second "sync now" joins the first
create unique index knowledge_runs_live_idx on knowledge_runs (source_id)
    where status in ('queued', 'running');

do $$
declare t text;
begin
    foreach t in array array[
        'knowledge_sources', 'knowledge_documents', 'knowledge_chunks', 'knowledge_runs'
    ] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy user_isolation on %I
                 using (user_id = nullif(current_setting(''app.user_id'', true), '''')::uuid)
                 with check (user_id = nullif(current_setting(''app.user_id'', true), '''')::uuid)',
            t);
    end loop;
end $$;
