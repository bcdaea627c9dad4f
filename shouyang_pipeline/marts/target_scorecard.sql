-- marts.target_scorecard: every target of reference.targets against the data, per period.
-- One row per target and per period that any mart has (= any period with a loaded row of any
-- dataset). Status is decided on unrounded figures:
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
--
-- The figures shown are read from the marts that compute them. Those marts keep them rounded, so
-- the unrounded figures that decide a status or a sign (the growth, the gap, the digital output,
-- the lowest village income) are taken from staging here, with the macros those marts use
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
            ELSE false
        END                                                             AS has_data,
        -- the unrounded figure compared with target_value
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN i.gap_exact
            WHEN 'digital_economy_core_output'  THEN CAST(i.digital_yi_exact AS DOUBLE)
            -- every expected village must report, and the lowest income must meet the target
            WHEN 'village_operating_income_min' THEN
                CASE WHEN vi.reported = vi.expected AND vi.expected > 0 THEN CAST(vi.min_income AS DOUBLE) END
        END                                                             AS judged_value,
        -- the figure shown, as the marts show it
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN CAST(i.gap_pp AS DOUBLE)
            WHEN 'digital_economy_core_output'  THEN CAST(i.digital_core_output_yi AS DOUBLE)
            WHEN 'village_operating_income_min' THEN CAST(vi.meeting AS DOUBLE)
        END                                                             AS actual_value,
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN '个百分点'
            WHEN 'digital_economy_core_output'  THEN '亿元'
            WHEN 'village_operating_income_min' THEN '个村'
        END                                                             AS actual_unit,
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN
                CASE WHEN i.enterprises IS NOT NULL OR i.city_yoy_growth_pct IS NOT NULL THEN p.period END
            WHEN 'digital_economy_core_output'  THEN CASE WHEN i.enterprises IS NOT NULL THEN p.period END
            WHEN 'village_operating_income_min' THEN vi.data_period
        END                                                             AS data_period,
        i.enterprises, i.yoy_exact, i.yoy_growth_pct, i.city_yoy_growth_pct, i.gap_exact, i.gap_pp,
        i.digital_core_output_yi, i.digital_yi_exact,
        vi.expected, vi.reported, vi.meeting,
        t.dataset IN (SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging') AS dataset_in_contract
    FROM periods AS p
    CROSS JOIN reference.targets AS t
    LEFT JOIN industry AS i ON i.period = p.period
    LEFT JOIN village AS vi ON vi.period = p.period
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
    --   a target with no computation
    dataset_in_contract
FROM measured
ORDER BY period, target_order  -- the order of reference.targets
