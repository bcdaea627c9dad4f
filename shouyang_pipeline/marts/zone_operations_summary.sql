-- marts.zone_operations_summary: each park's operating figures per period (WAREHOUSE.md).
-- One row per period and zone that reported (staging.zone_operations has one row per zone and
-- period: zone is the key, and holds the canonical zone_name). Money is cumulative from January.
--   *_yi                        万元 → 亿元, rounded 四舍五入 (macros.sql: wan_to_yi)
--   above_scale_enterprises, new_above_scale_enterprises, employees   as reported (NULL: blank)
--   operating_revenue_yoy_pct   (this year's operating_revenue_ytd ÷ the same zone's of the same
--                               month of the previous year − 1) × 100; NULL when that period is
--                               not held for the zone or its revenue is 0 (growth_pct, round_pct)
-- Bounds: one staging row per output row: 亿元 of a DECIMAL(18,4) ≤ 1e6; the growth a DOUBLE
-- ≤ 1e16 % (1e10 ÷ 0.0001 × 100); integers are staging INTEGERs.
SELECT
    z.period,
    z.zone                                                                  AS zone_name,
    wan_to_yi(z.fixed_asset_investment_ytd)                                 AS fixed_asset_investment_yi,
    wan_to_yi(z.tax_revenue_ytd)                                            AS tax_revenue_yi,
    wan_to_yi(z.operating_revenue_ytd)                                      AS operating_revenue_yi,
    CAST(z.above_scale_enterprises AS BIGINT)                               AS above_scale_enterprises,
    CAST(z.new_above_scale_enterprises AS BIGINT)                           AS new_above_scale_enterprises,
    CAST(z.employees AS BIGINT)                                             AS employees,
    round_pct(growth_pct(z.operating_revenue_ytd, prev.operating_revenue_ytd)) AS operating_revenue_yoy_pct
FROM staging.zone_operations AS z
LEFT JOIN staging.zone_operations AS prev
  ON prev.zone = z.zone
 AND prev.period = printf('%04d-%s', CAST(substr(z.period, 1, 4) AS INTEGER) - 1, substr(z.period, 6, 2))
LEFT JOIN reference.zones AS r ON r.zone_name = z.zone
ORDER BY z.period, r.rowid, z.zone  -- the order of the reference list
