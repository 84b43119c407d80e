-- Reliability: a per-person turn lease that holds no connection, messages
-- tagged with the channel they came from (operator chats never reach SMS),
-- and a sweeper that does not trust jobs held by a dead worker.

-- One agent drain per person at a time, across processes. A row, not a
-- session advisory lock: a lock would pin a pooled connection for the whole
-- drain (model calls included) and starve the pool under load. The holder
-- is the job's task id, so a retried job takes its own lease back at once;
-- anyone else waits for it to expire.
create table turn_leases (
    user_id    uuid primary key references users (id) on delete cascade,
    holder     text not null check (length(holder) between 1 and 200),
    expires_at timestamptz not null
);
alter table turn_leases enable row level security;
alter table turn_leases force row level security;
create policy user_isolation on turn_leases
    using (user_id = nullif(current_setting('app.user_id', true), '')::uuid)
    with check (user_id = nullif(current_setting('app.user_id', true), '')::uuid);

-- 'sms' messages travel by text; 'console' ones (nudge admin chat) are
-- shown in a terminal and never sent, answered by the sweeper or counted
-- as unsent.
alter table messages
    add column channel text not null default 'sms' check (channel in ('sms', 'console'));

drop index messages_pending_inbound_idx;
create index messages_pending_inbound_idx
    on messages (user_id, created_at)
    where direction = 'inbound' and status = 'received' and channel = 'sms';
drop index messages_unsent_outbound_idx;
create index messages_unsent_outbound_idx
    on messages (user_id, created_at)
    where direction = 'outbound' and status in ('generated', 'sending') and channel = 'sms';

-- A job counts as live while pending, or while held by a worker seen in the
-- last two minutes: jobs fetched by a worker that restarted or died are
-- stranded, not live.
create or replace function nudge_stranded_inbound(p_older_than interval, p_limit integer)
returns table (message_id uuid, user_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select m.id, m.user_id
      from public.messages m
     where m.direction = 'inbound' and m.status = 'received' and m.channel = 'sms'
       and m.created_at < now() - p_older_than
       and not exists (
           select 1 from apalis.jobs j
            where j.job_type = 'agent_turn'
              and convert_from(j.job, 'UTF8')::jsonb ->> 'user_id' = m.user_id::text
              and (j.status = 'Pending'
                   or (j.status in ('Queued', 'Running')
                       and exists (select 1 from apalis.workers w
                                    where w.id = j.lock_by
                                      and w.last_seen > now() - interval '2 minutes'))))
     order by m.created_at
     limit greatest(p_limit, 0)
$$;
