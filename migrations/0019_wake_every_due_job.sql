-- Wake a worker for every job that is due when it is written.
--
-- apalis' trigger notifies only when `run_at <= now()`, and now() is the
-- start of the inserting transaction, while run_at comes from the
-- application's clock, to the second. A job enqueued inside a transaction
-- that began in an earlier second (a webhook's, an agent turn's, a
-- reminder's) therefore looked scheduled, sent no NOTIFY and waited for the
-- next poll (250 ms). clock_timestamp() is the moment of the insert: every
-- job due by then wakes its queue; jobs for later still wait for the poll
-- that finds them due.
CREATE OR REPLACE FUNCTION apalis.notify_new_jobs() RETURNS TRIGGER AS $$
BEGIN
    IF NEW.run_at <= clock_timestamp() THEN
        PERFORM pg_notify(
            'apalis::job::insert',
            json_build_object(
                'job_type', NEW.job_type,
                'id', NEW.id,
                'run_at', NEW.run_at
            )::text
        );
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
