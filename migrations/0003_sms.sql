-- SMS: onboarding replies to unknown numbers (at most one per window),
-- status callbacks located by provider id, and the indexes the webhook and
-- the workers read by.

alter table user_identification_logs
    add column onboarding_replied boolean not null default false;
create index user_identification_logs_phone_idx
    on user_identification_logs (phone_e164, created_at) where onboarding_replied;

create index messages_pending_inbound_idx
    on messages (user_id, created_at) where direction = 'inbound' and status = 'received';
create index messages_unsent_outbound_idx
    on messages (user_id, created_at) where direction = 'outbound' and status in ('generated', 'sending');

-- Logs a message from a number nobody owns, and says whether it may get the
-- onboarding reply: only when none was sent to it within the window. The
-- advisory lock makes concurrent webhooks from one number agree.
create function nudge_log_unknown_sender(p_e164 text, p_message_sid text, p_window interval)
returns boolean
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    may_reply boolean;
begin
    perform pg_advisory_xact_lock(hashtextextended('onboarding:' || p_e164, 0));
    may_reply := not exists (
        select 1 from public.user_identification_logs
         where phone_e164 = p_e164 and onboarding_replied and created_at > now() - p_window);
    insert into public.user_identification_logs (phone_e164, user_id, outcome, message_sid, onboarding_replied)
    values (p_e164, null, 'unknown', p_message_sid, may_reply);
    return may_reply;
end
$$;

-- Whose message is this provider id? For status callbacks; id only.
create function nudge_user_id_for_provider_message(p_provider_message_id text)
returns uuid
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select user_id from public.messages where provider_message_id = p_provider_message_id
$$;

-- Inbound messages with no reply and no live job, older than the grace
-- period: the sweeper re-enqueues them. Ids only.
create function nudge_stranded_inbound(p_older_than interval, p_limit integer)
returns table (message_id uuid, user_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select m.id, m.user_id
      from public.messages m
     where m.direction = 'inbound' and m.status = 'received'
       and m.created_at < now() - p_older_than
       and not exists (
           select 1 from apalis.jobs j
            where j.job_type = 'agent_turn'
              and j.status in ('Pending', 'Queued', 'Running')
              and convert_from(j.job, 'UTF8')::jsonb ->> 'user_id' = m.user_id::text)
     order by m.created_at
     limit greatest(p_limit, 0)
$$;

revoke all on function nudge_log_unknown_sender(text, text, interval) from public;
revoke all on function nudge_user_id_for_provider_message(text) from public;
revoke all on function nudge_stranded_inbound(interval, integer) from public;
