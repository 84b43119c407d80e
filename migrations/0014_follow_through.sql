-- Follow-through (issue 15): reminders that persist until acknowledged,
-- "what was I doing?" bookmarks, focus check-ins and the time they took,
-- leave-by times, a morning check-in, and a per-person switch for each proactive text.

-- Nudges. `persist` null: the person's default (users.persist_reminders).
-- `nudge_for` is the delivery the current chain of nudges is about;
-- `nudges_sent` counts them, so a nudge job run twice (a crash after its
-- commit) finds its number taken and stands down; `nudge_end` says why the
-- chain stopped (null while it runs).
alter table reminders
    add column persist     boolean,
    add column nudge_for   timestamptz,
    add column nudges_sent smallint not null default 0 check (nudges_sent between 0 and 20),
    add column nudge_end   text check (nudge_end in (
        'acknowledged', 'opted_out', 'quiet_hours', 'next_due', 'finished', 'cancelled', 'turned_off'));

alter table users
    add column persist_reminders    boolean not null default false,
    add column nudge_interval       interval not null default interval '10 minutes'
        check (nudge_interval between interval '1 second' and interval '1 day'),
    add column nudge_max            smallint not null default 3 check (nudge_max between 1 and 10),
    add column bookmark_offer_after interval not null default interval '45 minutes'
        check (bookmark_offer_after between interval '1 second' and interval '1 day'),
    -- proactive texts the person turned off: 'nudges', 'bookmark_offer', 'focus_checkin'
    add column proactive_off        text[] not null default '{}',
    -- the morning check-in's local time; null: off
    add column morning_checkin_at   time,
    -- leave-by margin learned from "I was late" (+5 minutes each time)
    add column leave_buffer         interval not null default interval '0 minutes'
        check (leave_buffer between interval '0 minutes' and interval '2 hours');

-- "brb — doing taxes, next: find last year's receipt".
create table bookmarks (
    id         uuid primary key default gen_random_uuid(),
    user_id    uuid not null references users (id) on delete cascade,
    doing      text not null check (length(doing) between 1 and 500),
    next_step  text check (length(next_step) between 1 and 500),
    created_at timestamptz not null default now(),
    -- the one gentle "back?" offer, when it went out
    offered_at timestamptz
);
create index bookmarks_user_idx on bookmarks (user_id, created_at desc);

-- "starting 25 min on the report": a check-in when the time is up; the
-- replies (DONE / 10 MORE / STUCK) end or extend it. Done sessions give
-- "how long does the report usually take me?" its answer.
create table focus_sessions (
    id             uuid primary key default gen_random_uuid(),
    user_id        uuid not null references users (id) on delete cascade,
    task           text not null check (length(task) between 1 and 500),
    first_step     text check (length(first_step) between 1 and 500),
    started_at     timestamptz not null,
    ends_at        timestamptz not null,
    status         text not null default 'running'
                   check (status in ('running', 'checked_in', 'done', 'stuck', 'cancelled')),
    checked_in_at  timestamptz,
    ended_at       timestamptz,
    created_at     timestamptz not null default now(),
    check (ends_at > started_at)
);
create index focus_sessions_user_idx on focus_sessions (user_id, started_at desc);

do $$
declare
    t text;
begin
    foreach t in array array['bookmarks', 'focus_sessions'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy user_isolation on %I
                 using (user_id = nullif(current_setting(''app.user_id'', true), '''')::uuid)
                 with check (user_id = nullif(current_setting(''app.user_id'', true), '''')::uuid)',
            t);
    end loop;
end
$$;
