-- apalis' first migration indexed apalis.jobs (id) twice (the primary key
-- and unique_job_id) and lock_by twice (LIdx, and idx_apalis_jobs_lock_by
-- from its later "streamline indices", which dropped the other duplicates
-- but not these). Every job written or moved updates each index: at a
-- reminder burst that is four job writes per reminder, each maintaining
-- two indexes nothing reads. The primary key and idx_apalis_jobs_lock_by
-- stay, so lookups, ON CONFLICT (id) and uniqueness are unchanged.
drop index if exists apalis.unique_job_id;
drop index if exists apalis.lidx;
