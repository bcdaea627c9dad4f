-- marts.industrial_output_summary: the county's industry above designated size, per period.
-- One row per period with industrial_output or city_indicators rows. A period with only the
-- city's figure has enterprises 0 and NULL county figures (nothing reported is not 0 output).
--   yoy_growth_pct   (value_added_ytd ÷ value_added_prev_ytd − 1) × 100, nominal; NULL if prev is 0
--   gap_pp           yoy_growth_pct − city_yoy_growth_pct, both unrounded
-- Ratios are taken on unrounded sums and rounded as macros.sql says (growth_pct, round_pct,
-- round_gap: 10.55 rounds to 10.6, never to 10.5 by binary noise).
-- Bounds: sums of 万元 DECIMAL(18,4) are DECIMAL(38,4) (≤ 2^63 rows × 1e10 ≈ 9.2e28 万元); the
-- growth is at most that × 100 ÷ 0.0001 ≈ 9.2e34 %; the city's figure |x| ≤ 10000. Every output
-- type (DECIMAL(38,x), BIGINT) holds them.
WITH periods AS (
    SELECT period FROM staging.industrial_output
    UNION
    SELECT period FROM staging.city_indicators
),
county AS (
    SELECT
        period,
        count(*)                                                     AS enterprises,
        sum(value_added_ytd)                                         AS value_added_ytd_wan,
        sum(value_added_prev_ytd)                                    AS value_added_prev_ytd_wan,
        coalesce(sum(output_value_ytd) FILTER (WHERE is_digital_core), 0) AS digital_core_output_wan
    FROM staging.industrial_output
    GROUP BY period
),
city AS (
    SELECT period, value AS city_yoy_growth_pct
    FROM staging.city_indicators
    WHERE indicator = '规上工业增加值增速'
),
growth AS (
    SELECT
        pe.period,
        c.enterprises,
        c.value_added_ytd_wan,
        c.value_added_prev_ytd_wan,
        c.digital_core_output_wan,
        growth_pct(c.value_added_ytd_wan, c.value_added_prev_ytd_wan) AS yoy_growth_exact,  -- DOUBLE
        ci.city_yoy_growth_pct
    FROM periods AS pe
    LEFT JOIN county AS c ON c.period = pe.period
    LEFT JOIN city AS ci ON ci.period = pe.period
)
SELECT
    period,
    CAST(coalesce(enterprises, 0) AS BIGINT)                                           AS enterprises,
    wan_to_yi(value_added_ytd_wan)                                                     AS value_added_ytd_yi,
    wan_to_yi(value_added_prev_ytd_wan)                                                AS value_added_prev_ytd_yi,
    round_pct(yoy_growth_exact)                                                        AS yoy_growth_pct,
    CAST(round(city_yoy_growth_pct, 1) AS DECIMAL(38,1))                               AS city_yoy_growth_pct,
    round_gap(yoy_growth_exact, city_yoy_growth_pct)                                   AS gap_pp,
    wan_to_yi(digital_core_output_wan)                                                 AS digital_core_output_yi
FROM growth
ORDER BY period
