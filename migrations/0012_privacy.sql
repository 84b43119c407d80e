-- Privacy a person can exercise by text (issue 13): export links, account
-- deletion after a grace period, message retention, and the outcome of
-- each audited action.

-- Texted links have a purpose: connecting an account (a provider) or
-- downloading one's data (no provider). One table, one single-use jti.
alter table oauth_connect_links
    add column purpose text not null default 'connect' check (purpose in ('connect', 'export')),
    alter column provider drop not null,
    add constraint oauth_connect_links_purpose_provider
        check ((purpose = 'connect') = (provider is not null));

-- What came of an audited action: done, refused (bad or expired input,
-- not allowed) or failed (an error on our side).
alter table audit_log
    add column outcome text not null default 'ok' check (outcome in ('ok', 'refused', 'failed'));

-- A deletion the person asked for by text, run at due_at unless they
-- cancel first (cancelling deletes the row). Erased with the person.
create table account_deletions (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null unique references users (id) on delete cascade,
    requested_at timestamptz not null default now(),
    due_at       timestamptz not null
);
alter table account_deletions enable row level security;
alter table account_deletions force row level security;
create policy user_isolation on account_deletions
    using (user_id = nullif(current_setting('app.user_id', true), '')::uuid)
    with check (user_id = nullif(current_setting('app.user_id', true), '')::uuid);

-- Retention purges messages by age across people, oldest first.
create index messages_created_idx on messages (created_at);
-- Deleting a message (retention, an erase) finds the rows that point at
-- it; without these each deleted message scans those tables, and erasing
-- a person with 10,000 messages took 12 s instead of well under one.
create index messages_in_reply_to_idx on messages (in_reply_to);
create index sms_usage_logs_message_idx on sms_usage_logs (message_id);
create index agent_steps_message_idx on agent_steps (message_id);

-- The erase, in one place for the operator's `nudge admin user delete` and
-- the deletion job: audit entries about the person (they would only lose
-- their link), the identification log of their numbers (including texts
-- from before the numbers were theirs), the person and every row that
-- cascades from them, then the jobs whose payloads name their id or a
-- number of theirs. Not SECURITY DEFINER and not granted: the owner runs
-- it, or nudge_erase_due_deletion below on the person's own request.
create function nudge_erase_person(p_user uuid)
returns table (person boolean, jobs bigint, identification_logs bigint)
language plpgsql volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    phones text[];
    n_person bigint;
    n_jobs bigint;
    n_logs bigint;
begin
    select coalesce(array_agg(e164), '{}') into phones
      from public.user_phone_numbers where user_id = p_user;
    delete from public.audit_log where user_id = p_user;
    delete from public.user_identification_logs
     where user_id = p_user or phone_e164 = any(phones);
    get diagnostics n_logs = row_count;
    delete from public.users where id = p_user;
    get diagnostics n_person = row_count;
    delete from apalis.jobs
     where convert_from(job, 'UTF8')::jsonb ->> 'user_id' = p_user::text
        or convert_from(job, 'UTF8')::jsonb ->> 'phone' = any(phones);
    get diagnostics n_jobs = row_count;
    return query select n_person > 0, n_jobs, n_logs;
end
$$;
revoke all on function nudge_erase_person(uuid) from public;

-- The deletion job's entry points (it runs as the application role). The
-- person is found by the deletion's id, which is all the job's payload
-- carries, so the finished job names nobody; only a deletion that is due
-- and was not cancelled is ever erased.
create function nudge_due_deletion(p_deletion uuid)
returns uuid
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select user_id from public.account_deletions where id = p_deletion and due_at <= now()
$$;
revoke all on function nudge_due_deletion(uuid) from public;

-- Maintenance's safety net: due deletions whose job was lost or ran early.
create function nudge_due_deletions(p_limit integer)
returns setof uuid
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select id from public.account_deletions where due_at <= now()
     order by due_at limit greatest(p_limit, 0)
$$;
revoke all on function nudge_due_deletions(integer) from public;

-- Erases the person of a due deletion and leaves the one audit entry that
-- keeps no personal data (a salted hash of the id, given by the caller).
-- Returns the jobs removed, or null when the deletion is not (or no
-- longer) due.
create function nudge_erase_due_deletion(p_deletion uuid, p_details jsonb)
returns bigint
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    who uuid;
    erased record;
begin
    select user_id into who from public.account_deletions
     where id = p_deletion and due_at <= now() for update;
    if who is null then
        return null;
    end if;
    select * into erased from public.nudge_erase_person(who);
    insert into public.audit_log (user_id, actor, action, details)
    values (null, 'user', 'user.delete', p_details || jsonb_build_object('jobs', erased.jobs));
    return erased.jobs;
end
$$;
revoke all on function nudge_erase_due_deletion(uuid, jsonb) from public;

-- Retention: at most p_batch messages older than p_older_than, oldest
-- first; maintenance calls it until a batch comes back short. Summaries
-- and memories are other tables and stay.
create function nudge_purge_old_messages(p_older_than interval, p_batch integer)
returns bigint
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    n bigint;
begin
    delete from public.messages
     where id in (select id from public.messages
                   where created_at < now() - p_older_than
                   order by created_at
                   limit greatest(p_batch, 0));
    get diagnostics n = row_count;
    return n;
end
$$;
revoke all on function nudge_purge_old_messages(interval, integer) from public;
