-- Per-person OAuth (issue 9). Extends the tables 0001 reserved:
-- integrations get a lifecycle (needs_reauth, disconnected) and what an
-- operator needs to see; tokens get a refresh lease (single flight across
-- workers without holding a transaction over the provider call); states
-- become single use and bound to the browser that started them; connect
-- links are recorded by jti so each works once.

alter table oauth_integrations drop constraint oauth_integrations_status_check;
alter table oauth_integrations
    add constraint oauth_integrations_status_check
        check (status in ('connected', 'needs_reauth', 'disconnected', 'revoked', 'error')),
    add column last_refresh_at   timestamptz,
    add column last_error        text check (length(last_error) <= 300),
    -- set when the person was texted a reconnect link; cleared on reconnect,
    -- so a failing refresh texts once, not once per attempt
    add column reauth_notified_at timestamptz;

alter table oauth_tokens
    add constraint oauth_tokens_refresh_pair
        check ((refresh_token_ciphertext is null) = (refresh_token_nonce is null)),
    add constraint oauth_tokens_provider_check check (provider in ('google', 'microsoft', 'notion')),
    -- who refreshes now, and until when: one caller per person and provider
    -- across every process (see oauth::refresh)
    add column refresh_holder text check (length(refresh_holder) between 1 and 200),
    add column refresh_lease_until timestamptz;
create index oauth_tokens_expiry_idx on oauth_tokens (expires_at) where refresh_token_ciphertext is not null;
create index oauth_tokens_key_idx on oauth_tokens (key_id);

alter table oauth_states
    add constraint oauth_states_provider_check check (provider in ('google', 'microsoft', 'notion')),
    add column scopes       text[] not null default '{}',
    -- sha-256 of the random value in the cookie set on the browser that
    -- pressed "Connect": a callback from any other browser is refused
    add column browser_hash text not null default '' check (length(browser_hash) <= 100),
    add column used_at      timestamptz;
create index oauth_states_user_idx on oauth_states (user_id);

create table oauth_connect_links (
    jti        uuid primary key,
    user_id    uuid not null references users (id) on delete cascade,
    provider   text not null check (provider in ('google', 'microsoft', 'notion')),
    expires_at timestamptz not null,
    used_at    timestamptz,
    created_at timestamptz not null default now()
);
create index oauth_connect_links_user_idx on oauth_connect_links (user_id, created_at);
create index oauth_connect_links_expires_idx on oauth_connect_links (expires_at);

alter table oauth_connect_links enable row level security;
alter table oauth_connect_links force row level security;
create policy user_isolation on oauth_connect_links
    using (user_id = nullif(current_setting('app.user_id', true), '')::uuid)
    with check (user_id = nullif(current_setting('app.user_id', true), '')::uuid);

-- The refresh scheduler's cross-user entry point: which connected tokens
-- expire within p_within (ids and the provider name only; no token).
create function nudge_expiring_tokens(p_within interval, p_limit integer)
returns table (user_id uuid, provider text)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select t.user_id, t.provider
      from public.oauth_tokens t
      join public.oauth_integrations i on i.id = t.integration_id and i.user_id = t.user_id
     where i.status = 'connected' and t.refresh_token_ciphertext is not null
       and t.expires_at <= now() + p_within
       and (t.refresh_lease_until is null or t.refresh_lease_until < now())
     order by t.expires_at
     limit greatest(p_limit, 0)
$$;
revoke all on function nudge_expiring_tokens(interval, integer) from public;

-- Maintenance also forgets connect links once they have expired (spent or
-- not: either way they can no longer be used). Same signature and result
-- as in 0001, so its grant and callers stay as they are.
create or replace function nudge_purge_expired(p_identification_retention interval)
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
    delete from public.oauth_connect_links where expires_at < now();
    delete from public.pending_actions where expires_at < now();
    get diagnostics n_actions = row_count;
    delete from public.user_identification_logs
     where created_at < now() - p_identification_retention;
    get diagnostics n_logs = row_count;
    return query select n_states, n_actions, n_logs;
end
$$;
