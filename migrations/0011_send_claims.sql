-- Who holds an outbound message's "sending" claim: the delivery job's task
-- id. A job killed mid-send is re-queued under the same id and takes its own
-- claim back at once (the message may then leave twice, which is counted);
-- before, the retry found a fresh claim, took it for someone else's and
-- ended, and the message was never sent.
alter table messages add column claimed_by text check (length(claimed_by) between 1 and 100);
