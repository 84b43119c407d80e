-- Nudge schema: every table that holds a person's rows carries `user_id`
-- (or is `users` itself) and is protected by row-level security, ENABLED and
-- FORCED, with a policy on `current_setting('app.user_id', true)`.
--
-- `nullif(..., '')` matters: after a transaction-local `set_config` ends, the
-- setting reads as '' (not NULL) on that pooled connection, and ''::uuid
-- would raise instead of matching nothing.

create extension if not exists pgcrypto;

create table users (
    id                uuid primary key default gen_random_uuid(),
    display_name      text not null check (length(display_name) between 1 and 200),
    timezone          text not null default 'UTC',
    locale            text not null default 'en' check (locale in ('en', 'fr')),
    status            text not null default 'active' check (status in ('active', 'disabled')),
    quiet_hours_start time,
    quiet_hours_end   time,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    check ((quiet_hours_start is null) = (quiet_hours_end is null))
);

create table user_phone_numbers (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null references users (id) on delete cascade,
    e164         text not null unique check (e164 ~ '^\+[1-9][0-9]{6,14}$'),
    verified     boolean not null default false,
    is_primary   boolean not null default false,
    opted_out_at timestamptz,
    created_at   timestamptz not null default now()
);
create index user_phone_numbers_user_idx on user_phone_numbers (user_id);
create unique index user_phone_numbers_one_primary on user_phone_numbers (user_id) where is_primary;

-- user_id is NULL for numbers that belong to nobody; such rows are written and
-- purged only through SECURITY DEFINER functions.
create table user_identification_logs (
    id          bigint generated always as identity primary key,
    user_id     uuid references users (id) on delete cascade,
    phone_e164  text not null,
    outcome     text not null check (outcome in ('matched', 'unknown', 'disabled', 'opted_out')),
    message_sid text,
    created_at  timestamptz not null default now()
);
create index user_identification_logs_created_idx on user_identification_logs (created_at);
create index user_identification_logs_user_idx on user_identification_logs (user_id);

create table messages (
    id                  uuid primary key default gen_random_uuid(),
    user_id             uuid not null references users (id) on delete cascade,
    direction           text not null check (direction in ('inbound', 'outbound')),
    body                text not null,
    phone_e164          text,
    provider_message_id text unique,
    idempotency_key     text unique,
    in_reply_to         uuid references messages (id) on delete set null,
    status              text not null default 'received',
    error_code          text,
    segments            integer check (segments >= 0),
    media               jsonb not null default '[]'::jsonb,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);
create index messages_user_created_idx on messages (user_id, created_at);

create table sms_usage_logs (
    id                    bigint generated always as identity primary key,
    user_id               uuid not null references users (id) on delete cascade,
    message_id            uuid references messages (id) on delete set null,
    segments              integer not null check (segments >= 0),
    encoding              text not null check (encoding in ('gsm7', 'ucs2')),
    estimated_cost_micros bigint not null default 0,
    created_at            timestamptz not null default now()
);
create index sms_usage_logs_user_idx on sms_usage_logs (user_id, created_at);

create table reminders (
    id               uuid primary key default gen_random_uuid(),
    user_id          uuid not null references users (id) on delete cascade,
    body             text not null check (length(body) between 1 and 1000),
    due_at           timestamptz not null,
    timezone         text not null,
    -- local wall-clock time the person asked for; recurrences are computed from it
    local_time       time,
    recurrence       jsonb,
    explicit_time    boolean not null default false,
    status           text not null default 'scheduled'
                     check (status in ('scheduled', 'sent', 'done', 'cancelled', 'missed')),
    staleness_window interval not null default interval '2 hours',
    last_sent_at     timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);
create index reminders_due_idx on reminders (due_at) where status = 'scheduled';
create index reminders_user_idx on reminders (user_id, due_at);

create table tasks (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null references users (id) on delete cascade,
    title        text not null check (length(title) between 1 and 1000),
    status       text not null default 'open' check (status in ('open', 'done')),
    due_at       timestamptz,
    created_at   timestamptz not null default now(),
    completed_at timestamptz
);
create index tasks_user_idx on tasks (user_id, status);

create table goals (
    id         uuid primary key default gen_random_uuid(),
    user_id    uuid not null references users (id) on delete cascade,
    title      text not null check (length(title) between 1 and 1000),
    status     text not null default 'active' check (status in ('active', 'achieved', 'dropped')),
    progress   jsonb not null default '[]'::jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index goals_user_idx on goals (user_id);

create table list_items (
    id         uuid primary key default gen_random_uuid(),
    user_id    uuid not null references users (id) on delete cascade,
    list_name  text not null default 'shopping' check (length(list_name) between 1 and 100),
    item       text not null check (length(item) between 1 and 500),
    done       boolean not null default false,
    created_at timestamptz not null default now()
);
create index list_items_user_list_idx on list_items (user_id, list_name);

create table expenses (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null references users (id) on delete cascade,
    amount_minor bigint not null check (amount_minor > 0),
    currency     text not null check (currency ~ '^[A-Z]{3}$'),
    category     text not null default 'other',
    note         text,
    spent_at     timestamptz not null default now(),
    created_at   timestamptz not null default now()
);
create index expenses_user_spent_idx on expenses (user_id, spent_at);

create table memories (
    id         uuid primary key default gen_random_uuid(),
    user_id    uuid not null references users (id) on delete cascade,
    content    text not null check (length(content) between 1 and 2000),
    language   text not null default 'en' check (language in ('en', 'fr')),
    search     tsvector generated always as (
                   to_tsvector(case language when 'fr' then 'french'::regconfig
                                             else 'english'::regconfig end, content)
               ) stored,
    created_at timestamptz not null default now()
);
create index memories_search_idx on memories using gin (search);
create index memories_user_idx on memories (user_id, created_at);

create table conversation_summaries (
    id            uuid primary key default gen_random_uuid(),
    user_id       uuid not null references users (id) on delete cascade,
    summary       text not null,
    covers_until  timestamptz not null,
    created_at    timestamptz not null default now()
);
create index conversation_summaries_user_idx on conversation_summaries (user_id, created_at);

create table oauth_integrations (
    id               uuid primary key default gen_random_uuid(),
    user_id          uuid not null references users (id) on delete cascade,
    provider         text not null check (provider in ('google', 'microsoft', 'notion')),
    status           text not null default 'connected' check (status in ('connected', 'revoked', 'error')),
    scopes           text[] not null default '{}',
    external_account text,
    connected_at     timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    unique (user_id, provider)
);

create table oauth_tokens (
    id                       uuid primary key default gen_random_uuid(),
    user_id                  uuid not null references users (id) on delete cascade,
    integration_id           uuid not null unique references oauth_integrations (id) on delete cascade,
    provider                 text not null,
    key_id                   integer not null,
    access_token_ciphertext  bytea not null,
    access_token_nonce       bytea not null,
    refresh_token_ciphertext bytea,
    refresh_token_nonce      bytea,
    expires_at               timestamptz,
    updated_at               timestamptz not null default now()
);

create table oauth_states (
    state_hash               text primary key,
    user_id                  uuid not null references users (id) on delete cascade,
    provider                 text not null,
    pkce_verifier_ciphertext bytea not null,
    pkce_verifier_nonce      bytea not null,
    key_id                   integer not null,
    expires_at               timestamptz not null,
    created_at               timestamptz not null default now()
);
create index oauth_states_expires_idx on oauth_states (expires_at);

create table pending_actions (
    id         uuid primary key default gen_random_uuid(),
    user_id    uuid not null references users (id) on delete cascade,
    tool_name  text not null,
    arguments  jsonb not null,
    summary    text not null,
    short_code text not null,
    status     text not null default 'pending' check (status in ('pending', 'done', 'cancelled', 'expired')),
    expires_at timestamptz not null,
    created_at timestamptz not null default now()
);
create index pending_actions_expires_idx on pending_actions (expires_at);
create index pending_actions_user_idx on pending_actions (user_id, status);

-- user_id is NULL for actions that concern no single person.
create table audit_log (
    id         bigint generated always as identity primary key,
    user_id    uuid references users (id) on delete set null,
    actor      text not null check (actor in ('admin', 'system', 'user', 'agent')),
    action     text not null,
    details    jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now()
);
create index audit_log_user_idx on audit_log (user_id, created_at);

create table llm_usage (
    id            bigint generated always as identity primary key,
    user_id       uuid not null references users (id) on delete cascade,
    provider      text not null,
    model         text not null,
    input_tokens  integer not null default 0,
    output_tokens integer not null default 0,
    total_tokens  integer not null default 0,
    created_at    timestamptz not null default now()
);
create index llm_usage_user_idx on llm_usage (user_id, created_at);

-- Row-level security: one policy per table, same expression everywhere.
do $$
declare
    t text;
    col text;
begin
    foreach t in array array[
        'users', 'user_phone_numbers', 'user_identification_logs', 'messages',
        'sms_usage_logs', 'reminders', 'tasks', 'goals', 'list_items', 'expenses',
        'memories', 'conversation_summaries', 'oauth_integrations', 'oauth_tokens',
        'oauth_states', 'pending_actions', 'audit_log', 'llm_usage'
    ] loop
        col := case when t = 'users' then 'id' else 'user_id' end;
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy user_isolation on %I
                 using (%I = nullif(current_setting(''app.user_id'', true), '''')::uuid)
                 with check (%I = nullif(current_setting(''app.user_id'', true), '''')::uuid)',
            t, col, col);
    end loop;
end
$$;

-- Cross-user entry points. Narrow, SECURITY DEFINER, fixed search_path,
-- returning ids (or counts) only. EXECUTE is granted by `nudge migrate`.

create function nudge_user_id_for_phone(p_e164 text)
returns uuid
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select user_id from public.user_phone_numbers where e164 = p_e164
$$;

create function nudge_due_reminders(p_until timestamptz, p_limit integer)
returns table (reminder_id uuid, user_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select r.id, r.user_id
      from public.reminders r
     where r.status = 'scheduled' and r.due_at <= p_until
     order by r.due_at
     limit greatest(p_limit, 0)
$$;

create function nudge_log_identification(p_e164 text, p_user_id uuid, p_outcome text, p_message_sid text)
returns void
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
    insert into public.user_identification_logs (phone_e164, user_id, outcome, message_sid)
    values (p_e164, p_user_id, p_outcome, p_message_sid)
$$;

create function nudge_purge_expired(p_identification_retention interval)
returns table (oauth_states bigint, pending_actions bigint, identification_logs bigint)
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    n_states bigint;
    n_actions bigint;
    n_logs bigint;
begin
    delete from public.oauth_states where expires_at < now();
    get diagnostics n_states = row_count;
    delete from public.pending_actions where expires_at < now();
    get diagnostics n_actions = row_count;
    delete from public.user_identification_logs
     where created_at < now() - p_identification_retention;
    get diagnostics n_logs = row_count;
    return query select n_states, n_actions, n_logs;
end
$$;

revoke all on function nudge_user_id_for_phone(text) from public;
revoke all on function nudge_due_reminders(timestamptz, integer) from public;
revoke all on function nudge_log_identification(text, uuid, text, text) from public;
revoke all on function nudge_purge_expired(interval) from public;
