-- One row per project row of the current monthly report of its county and month.
-- key: report_row_id
select * exclude (submission_rank, is_current, is_first_submission, count_submissions, ingested_at)
from core.report_rows_history
where is_current
