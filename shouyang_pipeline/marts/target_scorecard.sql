-- marts.target_scorecard: every target of reference.targets against the data, per period.
-- One row per target and per period that any mart has (= any period with a loaded row of any
-- dataset). Status is decided on unrounded figures:
--   无数据  the figure is missing, or the target's dataset is not yet part of the contract
--   达标    actual <comparator> target_value (comparator from targets.csv: >= or >)
--   未达标  otherwise
-- Year-to-date figures are judged against the annual targets as they stand (detail says 累计).
--   industrial_growth_above_city  actual = gap_pp (county nominal growth − city growth);
--                                 无数据 when the city's figure (or the county's) is missing
--   digital_economy_core_output   actual = digital_core_output_yi (累计, 亿元)
--   village_operating_income_min  data: the latest village period ≤ this one in the same year;
--                                 actual = villages meeting 40万元 (个村); met only when every
--                                 village of reference.villages reported and meets it
-- Bounds: sums of 万元 DECIMAL(18,4) are DECIMAL(38,4); 亿元 (× 0.0001) DECIMAL(38,8); the growth
-- quotient a DOUBLE ≤ 9.2e34; every figure shown is DECIMAL(38,x) or DOUBLE, so nothing that
-- staging accepts overflows here in any number of rows.
WITH periods AS (
    SELECT period FROM staging.key_projects
    UNION SELECT period FROM staging.industrial_output
    UNION SELECT period FROM staging.city_indicators
    UNION SELECT period FROM staging.village_income
),
p AS (
    SELECT
        period,
        CASE WHEN CAST(substr(period, 6, 2) AS INTEGER) = 1 THEN '1月'
             ELSE '1—' || CAST(substr(period, 6, 2) AS INTEGER) || '月' END AS month_range
    FROM periods
),

-- 规上工业 (industrial_output + city_indicators), unrounded
industry AS (
    SELECT
        period,
        count(*)                                                          AS enterprises,
        (sum(value_added_ytd) - sum(value_added_prev_ytd)) * 100
             / nullif(sum(value_added_prev_ytd), 0)                       AS yoy_double,
        coalesce(sum(output_value_ytd) FILTER (WHERE is_digital_core), 0) * 0.0001 AS digital_yi_exact
    FROM staging.industrial_output
    GROUP BY period
),
city AS (
    SELECT period, value AS city_growth
    FROM staging.city_indicators
    WHERE indicator = '规上工业增加值增速'
),
growth AS (
    -- As in industrial_output_summary: below 1e27 the DOUBLE quotient is fixed to 10 decimals
    -- (DECIMAL(38,10)), so that signs, comparisons and 四舍五入 see 10.5500000000, not binary
    -- noise; from 1e27 on (beyond DECIMAL(38,10)) the DOUBLE is taken as it is.
    --   yoy_exact, gap_exact   unrounded (DOUBLE), for comparisons and signs
    --   yoy_pct, gap_pp, city_pct  rounded to 1 decimal (DECIMAL(38,1)), as shown
    SELECT
        p.period,
        p.month_range,
        i.enterprises,
        CASE WHEN abs(i.yoy_double) < 1e27 THEN CAST(CAST(i.yoy_double AS DECIMAL(38,10)) AS DOUBLE)
             ELSE i.yoy_double END                                                        AS yoy_exact,
        CASE WHEN abs(i.yoy_double) < 1e27 THEN round(CAST(i.yoy_double AS DECIMAL(38,10)), 1)
             ELSE CAST(i.yoy_double AS DECIMAL(38,1)) END                                 AS yoy_pct,
        i.digital_yi_exact,
        c.city_growth,
        CAST(round(c.city_growth, 1) AS DECIMAL(38,1))                                    AS city_pct,
        CASE WHEN abs(i.yoy_double) < 1e27
             THEN CAST(CAST(i.yoy_double AS DECIMAL(38,10)) - c.city_growth AS DOUBLE)
             ELSE i.yoy_double - c.city_growth END                                        AS gap_exact,
        CASE WHEN abs(i.yoy_double) < 1e27
             THEN round(CAST(i.yoy_double AS DECIMAL(38,10)) - c.city_growth, 1)
             ELSE CAST(i.yoy_double - c.city_growth AS DECIMAL(38,1)) END                 AS gap_pp
    FROM p
    LEFT JOIN industry AS i ON i.period = p.period
    LEFT JOIN city AS c ON c.period = p.period
),

-- 村集体经济: the latest village period up to this one in the same year
village_target AS (
    SELECT CAST(target_value AS DECIMAL(38,4)) AS target_wan
    FROM reference.targets
    WHERE target_key = 'village_operating_income_min'
),
village_period AS (
    SELECT p.period, max(v.period) AS data_period
    FROM p
    JOIN (SELECT DISTINCT period FROM staging.village_income) AS v
      ON substr(v.period, 1, 4) = substr(p.period, 1, 4) AND v.period <= p.period
    GROUP BY p.period
),
village AS (
    SELECT
        vp.period,
        vp.data_period,
        (SELECT count(*) FROM reference.villages)                              AS expected,
        count(*)                                                               AS reported,
        count(*) FILTER (WHERE v.operating_income >= (SELECT target_wan FROM village_target)) AS meeting,
        min(v.operating_income)                                                AS min_income
    FROM village_period AS vp
    JOIN staging.village_income AS v ON v.period = vp.data_period
    GROUP BY vp.period, vp.data_period
),

-- one measured row per period and target
measured AS (
    SELECT
        p.period,
        t.*,
        t.rowid                                                         AS target_order,
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN g.gap_exact IS NOT NULL
            WHEN 'digital_economy_core_output'  THEN g.enterprises IS NOT NULL
            WHEN 'village_operating_income_min' THEN vi.period IS NOT NULL
            ELSE false
        END                                                             AS has_data,
        -- the unrounded figure compared with target_value
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN g.gap_exact
            WHEN 'digital_economy_core_output'  THEN CAST(g.digital_yi_exact AS DOUBLE)
            -- every expected village must report, and the lowest income must meet the target
            WHEN 'village_operating_income_min' THEN
                CASE WHEN vi.reported = vi.expected AND vi.expected > 0 THEN CAST(vi.min_income AS DOUBLE) END
        END                                                             AS judged_value,
        -- the figure shown, rounded by the mart conventions
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN CAST(g.gap_pp AS DOUBLE)
            WHEN 'digital_economy_core_output'  THEN CAST(round(g.digital_yi_exact, 2) AS DOUBLE)
            WHEN 'village_operating_income_min' THEN CAST(vi.meeting AS DOUBLE)
        END                                                             AS actual_value,
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN '个百分点'
            WHEN 'digital_economy_core_output'  THEN '亿元'
            WHEN 'village_operating_income_min' THEN '个村'
        END                                                             AS actual_unit,
        CASE t.target_key
            WHEN 'industrial_growth_above_city' THEN CASE WHEN g.enterprises IS NOT NULL OR g.city_growth IS NOT NULL THEN p.period END
            WHEN 'digital_economy_core_output'  THEN CASE WHEN g.enterprises IS NOT NULL THEN p.period END
            WHEN 'village_operating_income_min' THEN vi.data_period
        END                                                             AS data_period,
        g.month_range, g.enterprises, g.yoy_exact, g.yoy_pct, g.city_growth, g.city_pct,
        g.gap_exact, g.gap_pp, g.digital_yi_exact,
        vi.expected, vi.reported, vi.meeting,
        t.dataset IN (SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging') AS dataset_in_contract
    FROM p
    CROSS JOIN reference.targets AS t
    LEFT JOIN growth AS g ON g.period = p.period
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
    CASE target_key
        WHEN 'industrial_growth_above_city' THEN
            CASE
                WHEN enterprises IS NULL THEN month_range || '无规上工业企业数据，无法与全市比较'
                WHEN yoy_exact IS NULL THEN month_range || '上年同期工业增加值为0，无法计算增速'
                WHEN city_growth IS NULL THEN month_range || '全县规上工业增加值累计同比'
                     || CASE WHEN yoy_exact < 0 THEN '下降' ELSE '增长' END
                     || abs(yoy_pct) || '%，全市增速未报送，无法比较'
                ELSE month_range || '全县规上工业增加值累计同比'
                     || CASE WHEN yoy_exact < 0 THEN '下降' ELSE '增长' END
                     || abs(yoy_pct) || '%，全市' || city_pct || '%，'
                     || CASE WHEN gap_exact > 0 THEN '高于全市' || gap_pp || '个百分点'
                             WHEN gap_exact < 0 THEN '低于全市' || (-gap_pp) || '个百分点'
                             ELSE '与全市持平' END
            END
        WHEN 'digital_economy_core_output' THEN
            CASE
                WHEN enterprises IS NULL THEN month_range || '无规上工业企业数据'
                ELSE month_range || '数字经济核心产业产值累计'
                     || CAST(round(digital_yi_exact, 2) AS DECIMAL(38,2)) || '亿元，全年目标'
                     || CAST(target_value AS DECIMAL(38,2)) || '亿元，'
                     || CASE WHEN digital_yi_exact >= target_value THEN '已达到目标'
                             ELSE '尚差' || CAST(round(CAST(target_value AS DECIMAL(38,4)) - digital_yi_exact, 2) AS DECIMAL(38,2)) || '亿元' END
            END
        WHEN 'village_operating_income_min' THEN
            CASE
                WHEN data_period IS NULL THEN '本年尚无村级集体经济收入数据'
                ELSE data_period || '：' || meeting || '/' || expected || '个村达标'
                     || CASE WHEN expected - meeting > 0
                             THEN '，' || (expected - meeting) || '个村未报送或未达标' ELSE '' END
            END
        ELSE
            CASE WHEN dataset_in_contract THEN '暂未设定该目标的计算口径，无数据'
                 ELSE '所需数据（' || dataset || '）尚未纳入报送，无数据' END
    END                                                                 AS detail,
    dataset,
    CASE WHEN has_data THEN data_period END                             AS data_period
FROM measured
ORDER BY period, target_order  -- the order of reference.targets
