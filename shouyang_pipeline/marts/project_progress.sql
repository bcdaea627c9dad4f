-- marts.project_progress: every key project in every period, with its progress (WAREHOUSE.md).
--   plan_completion_pct        ytd ÷ annual plan × 100, NULL when the annual plan is 0
--   ytd_investment_change_wan  ytd minus the previous calendar month's ytd of the same year;
--                              NULL in January or when that month has no row for the project
--   behind_schedule            never for 竣工; otherwise 未开工 from June on, or plan completion
--                              more than 15 percentage points below the share of the year
--                              elapsed (month ÷ 12 × 100)
-- One row per staging row: with staging's bounds (money ≤ 1e10 万元, a plan ≥ 0.0001 when not
-- 0) completion ≤ 1e16 % and a change |x| ≤ 1e10 万元; the expressions are written as in the
-- summaries anyway (macros.sql: ratio_pct, round_pct, round_money; the behind test in exact
-- DECIMAL(38,4)), so that no value of a DECIMAL(18,4) column can overflow them.
WITH p AS (
    SELECT
        *,
        CAST(substr(period, 1, 4) AS INTEGER) AS year,
        CAST(substr(period, 6, 2) AS INTEGER) AS month
    FROM staging.key_projects
),
with_prev AS (
    SELECT
        p.*,
        ratio_pct(p.ytd_investment, p.annual_plan_investment) AS completion,  -- DOUBLE
        prev.ytd_investment AS prev_ytd_investment
    FROM p
    LEFT JOIN staging.key_projects AS prev
      ON prev.project_code = p.project_code
     AND p.month > 1
     AND prev.period = printf('%04d-%02d', p.year, p.month - 1)
)
SELECT
    period,
    project_code, project_name, level, sector, industry_chain, zone, township,
    total_investment, annual_plan_investment, ytd_investment, status, is_productive,
    responsible_unit, start_date, remarks,
    round_pct(completion)                                                 AS plan_completion_pct,
    round_money(ytd_investment - prev_ytd_investment)                     AS ytd_investment_change_wan,
    CASE
        WHEN status = '竣工' THEN false
        WHEN status = '未开工' AND month >= 6 THEN true
        -- completion < month/12×100 − 15, multiplied through by 12 × plan so the test is
        -- exact decimal arithmetic: ytd × 1200 < plan × (100 × month − 180).
        WHEN annual_plan_investment > 0
             AND CAST(ytd_investment AS DECIMAL(38,4)) * 1200
                 < CAST(annual_plan_investment AS DECIMAL(38,4)) * (100 * month - 180) THEN true
        ELSE false
    END                                                                   AS behind_schedule,
    source_file,
    source_row
FROM with_prev
ORDER BY period, project_code
