-- The knowledge base's ingestion, finished (issue 11): a scheduled sync per
-- connected Notion workspace, runs whose job is gone recovered by the
-- sweeper, and a periodic id-only listing that removes pages no longer
-- shared with the integration (incremental search cannot see those).

-- when a complete listing of the workspace's pages last ran; documents
-- whose page it did not list were removed then
alter table knowledge_sources add column listed_at timestamptz;

-- People with a connected Notion whose last successful sync is older than
-- p_every (or who never synced), with no run live, and none started in the
-- last hour (a failing or canceled sync is not retried in a loop).
create function nudge_due_notion_syncs(p_every interval, p_limit integer)
returns table (user_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select i.user_id
      from public.oauth_integrations i
     where i.provider = 'notion' and i.status = 'connected'
       and not exists (
           select 1 from public.knowledge_runs r
             join public.knowledge_sources s on s.id = r.source_id
            where r.user_id = i.user_id and s.kind = 'notion'
              and (r.status in ('queued', 'running')
                   or (r.status = 'ready' and r.finished_at > now() - p_every)
                   or r.created_at > now() - least(p_every, interval '1 hour')))
     order by i.user_id
     limit greatest(p_limit, 0)
$$;
revoke all on function nudge_due_notion_syncs(interval, integer) from public;

-- Live runs (queued or running) older than p_older_than with no job left
-- to run them: none pending, running or due for a retry. `exhausted`: a
-- job of theirs ran out of attempts or was killed (the run is failed);
-- otherwise the job vanished (the run is resumed by a new job). Jobs of a
-- worker that died are apalis's own to re-enqueue: they stay live here.
create function nudge_stranded_knowledge_runs(p_older_than interval, p_limit integer)
returns table (run_id uuid, user_id uuid, source_id uuid, exhausted boolean)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select r.id, r.user_id, r.source_id,
           exists (select 1 from apalis.jobs j
                    where j.job_type = 'notion_sync'
                      and convert_from(j.job, 'UTF8')::jsonb ->> 'run_id' = r.id::text
                      and (j.status = 'Killed'
                           or (j.status = 'Failed' and j.attempts >= j.max_attempts)))
      from public.knowledge_runs r
     where r.status in ('queued', 'running')
       and r.created_at < now() - p_older_than
       and not exists (
           select 1 from apalis.jobs j
            where j.job_type = 'notion_sync'
              and convert_from(j.job, 'UTF8')::jsonb ->> 'run_id' = r.id::text
              and (j.status in ('Pending', 'Queued', 'Running')
                   or (j.status = 'Failed' and j.attempts < j.max_attempts)))
     order by r.created_at
     limit greatest(p_limit, 0)
$$;
revoke all on function nudge_stranded_knowledge_runs(interval, integer) from public;
