-- Follow-through, the rest (issue 15): an opt-in evening wrap-up, tasks
-- that roll forward quietly and are offered for archiving once untouched
-- for 14 days, and the time between a "brb" and coming back.

alter table users
    -- the evening wrap-up's local time; null: off
    add column evening_checkin_at time;

-- 'archived': the person said they no longer want it; it leaves every list.
alter table tasks drop constraint tasks_status_check;
alter table tasks add constraint tasks_status_check check (status in ('open', 'done', 'archived'));

alter table tasks
    -- the last time the person did something with it (added, moved, kept)
    add column touched_at         timestamptz not null default now(),
    -- the last "still want it? ARCHIVE / KEEP": one offer per 14 quiet days
    add column archive_offered_at timestamptz,
    add column archived_at        timestamptz;

-- When the person came back after a "brb" ("what was I doing?", "back"):
-- brb → back is recorded per task, as focus sessions are.
alter table bookmarks
    add column back_at timestamptz check (back_at >= created_at);
