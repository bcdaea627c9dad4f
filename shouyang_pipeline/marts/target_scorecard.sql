-- marts.target_scorecard: every target of reference.targets against the data, per period.
-- One row per target and per period that any mart has (= any period with a loaded row of any
-- dataset), and per period the warehouse holds a current file of (a month whose every file was
-- sent back: its briefing's scorecard says which department's was). Status is decided on
-- unrounded figures:
--   无数据  the figure is missing, or the target's dataset is not yet part of the contract
--   达标    actual <comparator> target_value (comparator from targets.csv: >= or >)
--   未达标  otherwise
-- Year-to-date figures are judged against the annual targets as they stand (detail says 累计).
--   industrial_growth_above_city  actual = gap_pp of marts.industrial_output_summary (county
--                                 nominal growth − city growth); 无数据 when the city's figure
--                                 (or the county's) is missing
--   digital_economy_core_output   actual = digital_core_output_yi of that mart (累计, 亿元)
--   village_operating_income_min  data: the latest period of marts.township_income_summary up
--                                 to this one in the same year; actual = its 全县 row's
--                                 villages_meeting_target (个村); met only when every village of
--                                 reference.villages reported and the lowest income meets the target
--   smart_working_faces           the period's 全县 row of marts.smart_mine_summary; actual =
--                                 faces_built (个); met only when at least 5 采煤 and 21 掘进
--                                 faces are built (the split "N采M掘" is read from target_name,
--                                 5 and 21 as WAREHOUSE.md says when the name has none) and
--                                 faces_built <comparator> target_value
--   leading_talent                data: the latest period of marts.talent_summary up to this one
--   practical_talent              in the same year; actual = its 合计 row's connected_ytd of
--                                 领军人才 / recruited_ytd of 实用型人才 (人, 累计)
--   pingtou_industry_cluster      the period's row of marts.zone_operations_summary for the
--                                 target's scope (平头融合发展区); actual = operating_revenue_yi
--                                 (亿元, 累计), judged on the unrounded 万元 ÷ 10000 of staging
-- A period without the data of a target is 无数据; its detail names the department that has not
-- reported, or whose file was sent back (audit.ingest_log; sentences.py).
--
-- The figures shown are read from the marts that compute them. Those marts keep them rounded, so
-- the unrounded figures that decide a status or a sign (the growth, the gap, the digital output,
-- the lowest village income, the park's revenue) are taken from staging here, with the macros those marts use
-- (macros.sql: growth_pct, exact_pct, exact_gap, yi_unrounded).
--
-- detail, one Chinese sentence, is written in Python (marts/sentences.py, scorecard_detail) from
-- the figures after data_period, which are not part of the mart: here it is NULL.
--
-- Bounds: sums of 万元 DECIMAL(18,4) are DECIMAL(38,4); 亿元 (× 0.0001) DECIMAL(38,8); the growth
-- quotient a DOUBLE ≤ 9.2e34; every figure shown is DECIMAL(38,x) or DOUBLE, so nothing that
-- staging accepts overflows here in any number of rows.
WITH periods AS (
    SELECT period FROM marts.project_summary                  -- key_projects
    UNION SELECT period FROM marts.industrial_output_summary  -- industrial_output, city_indicators
    UNION SELECT period FROM marts.township_income_summary    -- village_income
    UNION SELECT period FROM marts.smart_mine_summary         -- smart_mines
    UNION SELECT period FROM marts.zone_operations_summary    -- zone_operations
    UNION SELECT period FROM marts.talent_summary             -- talent
    UNION SELECT period FROM audit.ingest_log                 -- a month of files all sent back
          WHERE is_current AND partition_key IS NOT NULL AND period IS NOT NULL
),

-- 规上工业: as shown (the mart) and unrounded (staging)
industry_exact AS (
    SELECT
        period,
        growth_pct(sum(value_added_ytd), sum(value_added_prev_ytd))                AS yoy_double,
        yi_unrounded(coalesce(sum(output_value_ytd) FILTER (WHERE is_digital_core), 0)) AS digital_yi_exact
    FROM staging.industrial_output
    GROUP BY period
),
city AS (
    SELECT period, value AS city_growth
    FROM staging.city_indicators
    WHERE indicator = '规上工业增加值增速'
),
industry AS (
    --   enterprises                NULL when no enterprise reported (the mart says 0)
    --   yoy_exact, gap_exact       unrounded (DOUBLE), for comparisons and signs
    --   yoy_growth_pct, gap_pp, city_yoy_growth_pct, digital_core_output_yi   as shown
    SELECT
        p.period,
        nullif(m.enterprises, 0)                                               AS enterprises,
        m.yoy_growth_pct,
        m.city_yoy_growth_pct,
        m.gap_pp,
        m.digital_core_output_yi,
        exact_pct(x.yoy_double)                                                AS yoy_exact,
        exact_gap(x.yoy_double, c.city_growth)                                 AS gap_exact,
        x.digital_yi_exact
    FROM periods AS p
    LEFT JOIN marts.industrial_output_summary AS m ON m.period = p.period
    LEFT JOIN industry_exact AS x ON x.period = p.period
    LEFT JOIN city AS c ON c.period = p.period
),

-- 村集体经济: the latest village period up to this one in the same year, its 全县 row
village_period AS (
    SELECT p.period, max(v.period) AS data_period
    FROM periods AS p
    JOIN (SELECT DISTINCT period FROM marts.township_income_summary) AS v
      ON substr(v.period, 1, 4) = substr(p.period, 1, 4) AND v.period <= p.period
    GROUP BY p.period
),
village_lowest AS (
    -- unrounded (marts.village_income shows incomes rounded)
    SELECT period, min(operating_income) AS min_income
    FROM staging.village_income
    GROUP BY period
),
village AS (
    SELECT
        vp.period,
        vp.data_period,
        t.villages_expected                                                    AS expected,
        t.villages_reported                                                    AS reported,
        t.villages_meeting_target                                              AS meeting,
        lo.min_income
    FROM village_period AS vp
    JOIN marts.township_income_summary AS t
      ON t.period = vp.data_period AND t.township = '全县' AND t.township_code IS NULL
    LEFT JOIN village_lowest AS lo ON lo.period = vp.data_period
),

-- 智能化工作面: the period's 全县 row
mines AS (
    SELECT period, faces_built, mining_faces_built, heading_faces_built
    FROM marts.smart_mine_summary
    WHERE mine_name = '全县' AND mine_code IS NULL
),

-- 人才: the latest talent period up to this one in the same year, its 合计 rows
talent_period AS (
    SELECT p.period, max(tp.period) AS data_period
    FROM periods AS p
    JOIN (SELECT DISTINCT period FROM marts.talent_summary) AS tp
      ON substr(tp.period, 1, 4) = substr(p.period, 1, 4) AND tp.period <= p.period
    GROUP BY p.period
),
talent AS (
    SELECT
        tp.period,
        tp.data_period,
        coalesce(sum(s.connected_ytd) FILTER (WHERE s.talent_kind = '领军人才'), 0)     AS leading_connected,
        coalesce(sum(s.recruited_ytd) FILTER (WHERE s.talent_kind = '实用型人才'), 0)   AS practical_recruited
    FROM talent_period AS tp
    JOIN marts.talent_summary AS s ON s.period = tp.data_period AND s.field = '合计'
    GROUP BY tp.period, tp.data_period
),

-- 园区: each park's row, as shown (the mart) and unrounded (staging)
zone_exact AS (
    SELECT period, zone AS zone_name, yi_unrounded(operating_revenue_ytd) AS revenue_yi_exact
    FROM staging.zone_operations
),
zones AS (
    SELECT m.period, m.zone_name, m.operating_revenue_yi, x.revenue_yi_exact
    FROM marts.zone_operations_summary AS m
    LEFT JOIN zone_exact AS x ON x.period = m.period AND x.zone_name = m.zone_name
),

-- one measured row per period and target
measured AS (
    SELECT
        p.period,
        t.*,
        t.rowid                                                         AS target_order,
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN i.gap_exact IS NOT NULL
            WHEN 'digital_economy_core_output'  THEN i.enterprises IS NOT NULL
            WHEN 'village_operating_income_min' THEN vi.period IS NOT NULL
            WHEN 'smart_working_faces'          THEN mi.period IS NOT NULL
            WHEN 'leading_talent'               THEN ta.period IS NOT NULL
            WHEN 'practical_talent'             THEN ta.period IS NOT NULL
            WHEN 'pingtou_industry_cluster'     THEN zo.period IS NOT NULL
            ELSE false
        END                                                             AS has_data,
        -- the unrounded figure compared with target_value
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN i.gap_exact
            WHEN 'digital_economy_core_output'  THEN CAST(i.digital_yi_exact AS DOUBLE)
            -- every expected village must report, and the lowest income must meet the target
            WHEN 'village_operating_income_min' THEN
                CASE WHEN vi.reported = vi.expected AND vi.expected > 0 THEN CAST(vi.min_income AS DOUBLE) END
            -- at least N 采煤 and M 掘进 built, and the number built against target_value
            WHEN 'smart_working_faces'          THEN
                CASE WHEN mi.mining_faces_built >= sp.mining_required AND mi.heading_faces_built >= sp.heading_required
                     THEN CAST(mi.faces_built AS DOUBLE) END
            WHEN 'leading_talent'               THEN CAST(ta.leading_connected AS DOUBLE)
            WHEN 'practical_talent'             THEN CAST(ta.practical_recruited AS DOUBLE)
            WHEN 'pingtou_industry_cluster'     THEN CAST(zo.revenue_yi_exact AS DOUBLE)
        END                                                             AS judged_value,
        -- the figure shown, as the marts show it
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN CAST(i.gap_pp AS DOUBLE)
            WHEN 'digital_economy_core_output'  THEN CAST(i.digital_core_output_yi AS DOUBLE)
            WHEN 'village_operating_income_min' THEN CAST(vi.meeting AS DOUBLE)
            WHEN 'smart_working_faces'          THEN CAST(mi.faces_built AS DOUBLE)
            WHEN 'leading_talent'               THEN CAST(ta.leading_connected AS DOUBLE)
            WHEN 'practical_talent'             THEN CAST(ta.practical_recruited AS DOUBLE)
            WHEN 'pingtou_industry_cluster'     THEN CAST(zo.operating_revenue_yi AS DOUBLE)
        END                                                             AS actual_value,
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN '个百分点'
            WHEN 'digital_economy_core_output'  THEN '亿元'
            WHEN 'village_operating_income_min' THEN '个村'
            WHEN 'smart_working_faces'          THEN '个'
            WHEN 'leading_talent'               THEN '人'
            WHEN 'practical_talent'             THEN '人'
            WHEN 'pingtou_industry_cluster'     THEN '亿元'
        END                                                             AS actual_unit,
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN
                CASE WHEN i.enterprises IS NOT NULL OR i.city_yoy_growth_pct IS NOT NULL THEN p.period END
            WHEN 'digital_economy_core_output'  THEN CASE WHEN i.enterprises IS NOT NULL THEN p.period END
            WHEN 'village_operating_income_min' THEN vi.data_period
            WHEN 'smart_working_faces'          THEN mi.period
            WHEN 'leading_talent'               THEN ta.data_period
            WHEN 'practical_talent'             THEN ta.data_period
            WHEN 'pingtou_industry_cluster'     THEN zo.period
        END                                                             AS data_period,
        i.enterprises, i.yoy_exact, i.yoy_growth_pct, i.city_yoy_growth_pct, i.gap_exact, i.gap_pp,
        i.digital_core_output_yi, i.digital_yi_exact,
        vi.expected, vi.reported, vi.meeting,
        mi.faces_built, mi.mining_faces_built, mi.heading_faces_built, sp.mining_required, sp.heading_required,
        ta.leading_connected, ta.practical_recruited,
        zo.operating_revenue_yi, zo.revenue_yi_exact,
        t.dataset IN (SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging') AS dataset_in_contract
    FROM periods AS p
    CROSS JOIN reference.targets AS t
    LEFT JOIN industry AS i ON i.period = p.period
    LEFT JOIN village AS vi ON vi.period = p.period
    LEFT JOIN mines AS mi ON mi.period = p.period
    LEFT JOIN talent AS ta ON ta.period = p.period
    -- the park of a target on zone_operations is its scope (平头融合发展区)
    LEFT JOIN zones AS zo ON zo.period = p.period AND t.dataset = 'zone_operations' AND zo.zone_name = t.scope
    -- 5采21掘: the split of the faces target, from its name (WAREHOUSE.md's 5 and 21 otherwise)
    CROSS JOIN LATERAL (
        SELECT
            coalesce(TRY_CAST(regexp_extract(t.target_name, '(\d+)采\d+掘', 1) AS BIGINT), 5)  AS mining_required,
            coalesce(TRY_CAST(regexp_extract(t.target_name, '\d+采(\d+)掘', 1) AS BIGINT), 21) AS heading_required
    ) AS sp
)
SELECT
    period,
    target_key,
    target_name,
    comparator,
    CAST(target_value AS DOUBLE)                                        AS target_value,
    unit,
    CASE WHEN has_data THEN actual_value END                            AS actual_value,
    actual_unit,
    CASE
        WHEN NOT has_data THEN '无数据'
        WHEN comparator = '>=' AND judged_value >= target_value THEN '达标'
        WHEN comparator = '>'  AND judged_value >  target_value THEN '达标'
        ELSE '未达标'
    END                                                                 AS status,
    CAST(NULL AS VARCHAR)                                               AS detail,  -- sentences.py
    dataset,
    CASE WHEN has_data THEN data_period END                             AS data_period,

    -- The figures of detail (not columns of the mart), each for its own target. A cast that
    -- could fail on an absurd target value is made only where the sentence shows it.
    --   industrial_growth_above_city
    enterprises,                                                        -- NULL: no 规上 data
    yoy_exact,                                                          -- sign; NULL: no growth
    abs(yoy_growth_pct)                                                 AS yoy_growth_shown,
    city_yoy_growth_pct                                                 AS city_growth_shown,
    gap_exact,                                                          -- sign
    abs(gap_pp)                                                         AS gap_shown,
    --   digital_economy_core_output
    digital_core_output_yi                                              AS digital_shown,
    CASE WHEN target_key = 'digital_economy_core_output' AND enterprises IS NOT NULL
         THEN CAST(target_value AS DECIMAL(38,2)) END                   AS digital_target_shown,
    CASE WHEN target_key = 'digital_economy_core_output' AND enterprises IS NOT NULL
         THEN digital_yi_exact >= target_value END                      AS digital_met,
    CASE WHEN target_key = 'digital_economy_core_output' AND enterprises IS NOT NULL
              AND NOT (digital_yi_exact >= target_value)
         THEN round_money(CAST(target_value AS DECIMAL(38,4)) - digital_yi_exact)
    END                                                                 AS digital_shortfall_shown,
    --   village_operating_income_min (with data_period)
    expected                                                            AS villages_expected,
    reported                                                            AS villages_reported,
    meeting                                                             AS villages_meeting,
    --   smart_working_faces (with period)
    faces_built,
    mining_faces_built,
    heading_faces_built,
    mining_required,
    heading_required,
    --   leading_talent, practical_talent (with data_period)
    leading_connected,
    practical_recruited,
    --   pingtou_industry_cluster: the figure shown; the shortfall from the unrounded one
    scope,
    operating_revenue_yi                                                AS revenue_shown,
    revenue_yi_exact,
    --   a target with no computation
    dataset_in_contract,
    --   any target without its data: the periods of this year up to this one whose file of the
    --   target's dataset (for a park's target, the park's file) is current and was sent back
    --   whole, so the detail says 被退回 rather than 未报送 (sentences.py, not_reported)
    (SELECT list(DISTINCT l.period ORDER BY l.period)
     FROM audit.ingest_log AS l
     WHERE l.is_current AND l.status = 'rejected' AND l.partition_key IS NOT NULL AND l.dataset = measured.dataset
       AND substr(l.period, 1, 4) = substr(measured.period, 1, 4) AND l.period <= measured.period
       AND (measured.dataset <> 'zone_operations' OR measured.scope IN (l.submitter, l.expected_submitter))
    ) AS sent_back_periods
FROM measured
ORDER BY period, target_order  -- the order of reference.targets
