-- marts.village_income: every village that reported, per period, against the 40万元 target.
-- The target is reference.targets 'village_operating_income_min' (40 万元); "均超40万元" is
-- read as 40万元以上, which includes 40: meets_target is operating income ≥ target.
-- Bands by operating income: <5万 | 5-10万 (5 ≤ x < 10) | 10-40万 (10 ≤ x < 40) | ≥40万.
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
    CAST(round(v.operating_income, 2) AS DECIMAL(38,2))                          AS operating_income_wan,
    CAST(round(v.total_income, 2) AS DECIMAL(38,2))                              AS total_income_wan,
    v.operating_income >= t.target_wan                                           AS meets_target,
    CAST(round(greatest(t.target_wan - v.operating_income, 0), 2) AS DECIMAL(38,2)) AS shortfall_wan,
    CASE
        WHEN v.operating_income < 5  THEN '<5万'
        WHEN v.operating_income < 10 THEN '5-10万'
        WHEN v.operating_income < 40 THEN '10-40万'
        ELSE '≥40万'
    END                                                                          AS income_band,
    v.main_source
FROM staging.village_income AS v
LEFT JOIN target AS t ON true
ORDER BY v.period, v.township, v.village_code, v.village_name
