-- marts.village_income: every village that reported, per period, against the village target.
-- The target is reference.targets 'village_operating_income_min' (40 万元 as the county has set
-- it); "均超40万元" is read as 40万元以上, which includes 40: meets_target is operating income ≥
-- target. Nothing here names the target's value: a village target of 50 would move the bands.
-- Bands by operating income, the upper edge being the target (40 万元 gives the bands of
-- WAREHOUSE.md): <5万 | 5-10万 (5 ≤ x < 10) | 10-40万 (10 ≤ x < target) | ≥40万 (x ≥ target).
-- Without a village target in reference.targets, meets_target and the band of a village from
-- 10 万元 up are NULL (shortfall_wan is 0: greatest() passes over a NULL).
-- One row per staging row: figures are bounded by staging's own (|x| ≤ 1e10 万元) and the
-- outputs are DECIMAL(38,2); the target (a DOUBLE in reference.targets) is taken as DECIMAL(38,4).
WITH target AS (
    SELECT CAST(target_value AS DECIMAL(38,4)) AS target_wan
    FROM reference.targets
    WHERE target_key = 'village_operating_income_min'
)
SELECT
    v.period,
    v.village_code,
    v.village_name,
    v.township,
    round_money(v.operating_income)                                              AS operating_income_wan,
    round_money(v.total_income)                                                  AS total_income_wan,
    v.operating_income >= t.target_wan                                           AS meets_target,
    round_money(greatest(t.target_wan - v.operating_income, 0))                  AS shortfall_wan,
    CASE
        WHEN v.operating_income < 5  THEN '<5万'
        WHEN v.operating_income < 10 THEN '5-10万'
        WHEN v.operating_income < t.target_wan THEN '10-' || wan_label(t.target_wan) || '万'
        ELSE '≥' || wan_label(t.target_wan) || '万'
    END                                                                          AS income_band,
    v.main_source
FROM staging.village_income AS v
LEFT JOIN target AS t ON true
ORDER BY v.period, v.township, v.village_code, v.village_name
