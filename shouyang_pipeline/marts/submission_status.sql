-- marts.submission_status: who reports what, and by when (SUBMISSIONS.md 7; WAREHOUSE.md).
--
-- One row per expected submission (a line of reference.submitters, for a period whose month is
-- one of the line's `months`) for every period the warehouse holds a current file of and for the
-- period now due (the month before run_clock()'s month), then one row per current file that
-- belongs to no expected submission (名单外). The file's expected submitter was found at ingest
-- (audit.ingest_log.expected_submitter: the file name's submitter, normalised, equals the
-- calendar's submitter or department; no submitter: the dataset's only line).
--
-- Status of an expected submission, from its current files:
--   none: 逾期未报 once run_clock() has passed the end of the due day, else 未到期;
--   every one rejected: 被退回; every one wholly loaded: 已报送;
--   otherwise (rows rejected, or several files of which some were sent back): 部分入库.
--   A file sent back as a byte-for-byte copy of another (重复提交, SUBMISSIONS.md 1) is not counted
--   in the status: the same content sent twice, one of them loaded, is 已报送.
-- Late: the earliest received time of any version of its files' paths is after the due day
-- (received on the due day at 23:59 is on time).
WITH calendar AS (
    -- each calendar line with its months as integers: `1-12`, `2-12`, `3,6,9,12`; full-width
    -- digits, commas, 、 and spaces as reference.parse_months accepts them
    SELECT
        s.rowid AS line,
        s.dataset,
        s.submitter,
        s.department,
        CAST(s.due_day AS INTEGER) AS due_day,
        flatten(list_transform(
            string_split(translate(regexp_replace(s.months, '\s', '', 'g'), '０１２３４５６７８９，、－　', '0123456789,,-'), ','),
            lambda part: CASE
                WHEN part = '' THEN CAST([] AS INTEGER[])
                WHEN contains(part, '-') THEN CAST(range(CAST(split_part(part, '-', 1) AS INTEGER),
                                                         CAST(split_part(part, '-', 2) AS INTEGER) + 1) AS INTEGER[])
                ELSE [CAST(part AS INTEGER)]
            END)) AS months
    FROM reference.submitters AS s
),

current_files AS (
    -- the current files placed in a dataset-period (a file no partition holds is in no period)
    SELECT file_path, dataset, period, submitter, expected_submitter, status, rows_loaded, rows_rejected,
           status = 'rejected' AND starts_with(coalesce(message, ''), '重复提交') AS is_copy
    FROM audit.ingest_log
    WHERE is_current AND partition_key IS NOT NULL AND dataset IS NOT NULL AND period IS NOT NULL
),

first_received AS (
    -- a path's first version, current or not: a corrected file keeps the time the first came in
    SELECT file_path, min(received_at) AS first_received_at
    FROM audit.ingest_log
    WHERE file_path IN (SELECT file_path FROM current_files)
    GROUP BY file_path
),

periods AS (
    SELECT DISTINCT period FROM current_files
    UNION
    SELECT strftime(date_trunc('month', run_clock()) - INTERVAL 1 MONTH, '%Y-%m')
),

expected AS (
    SELECT
        p.period,
        c.line,
        c.dataset,
        c.submitter,
        c.department,
        CAST(strptime(p.period || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH
             + (c.due_day - 1) * INTERVAL 1 DAY AS DATE) AS due_date
    FROM periods AS p
    JOIN calendar AS c ON list_contains(c.months, CAST(right(p.period, 2) AS INTEGER))
),

files AS (
    -- each current file with the expected submission it belongs to (owner NULL: 名单外)
    SELECT f.*, r.first_received_at, e.submitter AS owner
    FROM current_files AS f
    LEFT JOIN first_received AS r USING (file_path)
    LEFT JOIN expected AS e
        ON e.dataset = f.dataset AND e.period = f.period AND e.submitter = f.expected_submitter
),

unexplained_flags AS (
    -- unexplained flags, with the file they come from; a missing_key flag's file is the previous
    -- period's, and it counts for the expected submitter that file belongs to
    SELECT
        fl.period,
        fl.dataset,
        CASE WHEN fl.rule = 'missing_key' THEN NULL ELSE fl.file_path END AS file_path,
        CASE WHEN fl.rule = 'missing_key' THEN prev.expected_submitter END AS previous_owner
    FROM audit.cross_period_flags AS fl
    LEFT JOIN (
        SELECT file_path, any_value(expected_submitter) AS expected_submitter
        FROM audit.ingest_log
        WHERE is_current
        GROUP BY file_path
    ) AS prev ON prev.file_path = fl.file_path
    WHERE fl.explained IS NOT TRUE
),

submissions AS (
    SELECT
        e.period,
        e.line,
        e.dataset,
        e.submitter,
        e.department,
        e.due_date,
        count(f.file_path) AS files,
        count(f.file_path) FILTER (WHERE NOT f.is_copy) AS files_counted,
        count(f.file_path) FILTER (WHERE f.status = 'rejected' AND NOT f.is_copy) AS files_rejected,
        count(f.file_path) FILTER (WHERE f.status = 'loaded') AS files_loaded,
        list(f.file_path ORDER BY f.file_path) FILTER (WHERE f.file_path IS NOT NULL) AS paths,
        min(f.first_received_at) AS first_received_at,
        coalesce(sum(f.rows_loaded), 0) AS rows_loaded,
        coalesce(sum(f.rows_rejected), 0) AS rows_rejected
    FROM expected AS e
    LEFT JOIN files AS f
        ON f.dataset = e.dataset AND f.period = e.period AND f.owner = e.submitter
    GROUP BY e.period, e.line, e.dataset, e.submitter, e.department, e.due_date
),

expected_rows AS (
    SELECT
        s.period,
        s.dataset,
        dataset_title(s.dataset) AS dataset_title,
        s.submitter,
        s.department,
        s.due_date,
        CASE
            WHEN s.files = 0 AND run_clock() >= s.due_date + INTERVAL 1 DAY THEN '逾期未报'
            WHEN s.files = 0 THEN '未到期'
            WHEN s.files_rejected = s.files_counted THEN '被退回'
            WHEN s.files_loaded = s.files_counted THEN '已报送'
            ELSE '部分入库'
        END AS status,
        array_to_string(s.paths, '、') AS file_path,
        s.first_received_at,
        s.first_received_at >= s.due_date + INTERVAL 1 DAY AS is_late,
        s.rows_loaded,
        s.rows_rejected,
        (SELECT count(*) FROM unexplained_flags AS o
         WHERE o.period = s.period AND o.dataset = s.dataset
           AND (list_contains(s.paths, o.file_path) OR o.previous_owner = s.submitter)) AS open_flags,
        0 AS part,
        s.line AS line
    FROM submissions AS s
),

unlisted_rows AS (
    SELECT
        f.period,
        f.dataset,
        dataset_title(f.dataset) AS dataset_title,
        f.submitter,
        c.department,
        CAST(NULL AS DATE) AS due_date,
        '名单外' AS status,
        f.file_path,
        f.first_received_at,
        CAST(NULL AS BOOLEAN) AS is_late,
        coalesce(f.rows_loaded, 0) AS rows_loaded,
        coalesce(f.rows_rejected, 0) AS rows_rejected,
        (SELECT count(*) FROM unexplained_flags AS o
         WHERE o.period = f.period AND o.dataset = f.dataset AND o.file_path = f.file_path) AS open_flags,
        1 AS part,
        NULL AS line
    FROM files AS f
    -- a sender on the calendar whose line is not due that month: named by its full name
    LEFT JOIN calendar AS c ON c.dataset = f.dataset AND c.submitter = f.expected_submitter
    WHERE f.owner IS NULL
)

SELECT
    period,
    dataset,
    dataset_title,
    submitter,
    department,
    due_date,
    status,
    file_path,
    CAST(first_received_at AS TIMESTAMP) AS first_received_at,
    is_late,
    CAST(rows_loaded AS BIGINT) AS rows_loaded,
    CAST(rows_rejected AS BIGINT) AS rows_rejected,
    CAST(open_flags AS BIGINT) AS open_flags
FROM (SELECT * FROM expected_rows UNION ALL BY NAME SELECT * FROM unlisted_rows)
ORDER BY period, part, line, file_path
