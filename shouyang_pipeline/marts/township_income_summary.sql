-- marts.township_income_summary: village collective income by township, per period.
-- For every period with village_income rows: one row per township of reference.townships,
-- plus 全县 (the county). villages_expected counts reference.villages; the other figures are
-- over the villages that reported (a township that sent nothing has 0 reported and 0 income).
-- share_meeting_target_pct is of the villages expected. Sums are of unrounded staging values:
-- DECIMAL(38,4), ≤ 2^63 rows × 1e10 万元, held by the DECIMAL(38,2) outputs; counts are BIGINT.
WITH periods AS (
    SELECT DISTINCT period FROM staging.village_income
),
target AS (
    SELECT CAST(target_value AS DECIMAL(38,4)) AS target_wan
    FROM reference.targets
    WHERE target_key = 'village_operating_income_min'
),
expected AS (
    SELECT township_name AS township, count(*) AS villages_expected
    FROM reference.villages
    GROUP BY township_name
),
reported AS (
    SELECT
        v.period,
        v.township,
        count(*)                                                     AS villages_reported,
        count(*) FILTER (WHERE v.operating_income >= t.target_wan)   AS villages_meeting_target,
        sum(v.operating_income)                                      AS operating_income_wan,
        sum(greatest(t.target_wan - v.operating_income, 0))          AS shortfall_wan
    FROM staging.village_income AS v
    LEFT JOIN target AS t ON true
    GROUP BY v.period, v.township
),
by_township AS (
    SELECT
        pe.period,
        tw.township_name                          AS township,
        tw.township_code,
        1                                         AS sort_group,
        coalesce(e.villages_expected, 0)          AS villages_expected,
        coalesce(r.villages_reported, 0)          AS villages_reported,
        coalesce(r.villages_meeting_target, 0)    AS villages_meeting_target,
        coalesce(r.operating_income_wan, 0)       AS operating_income_wan,
        coalesce(r.shortfall_wan, 0)              AS shortfall_wan
    FROM periods AS pe
    CROSS JOIN reference.townships AS tw
    LEFT JOIN expected AS e ON e.township = tw.township_name
    LEFT JOIN reported AS r ON r.period = pe.period AND r.township = tw.township_name
),
county AS (
    -- 全县: the whole reference list and every village that reported (villages are validated
    -- against the list at ingest, so every reported village belongs to a listed township).
    SELECT
        pe.period,
        '全县'                                                       AS township,
        CAST(NULL AS VARCHAR)                                        AS township_code,
        2                                                            AS sort_group,
        (SELECT count(*) FROM reference.villages)                    AS villages_expected,
        coalesce(sum(r.villages_reported), 0)                        AS villages_reported,
        coalesce(sum(r.villages_meeting_target), 0)                  AS villages_meeting_target,
        coalesce(sum(r.operating_income_wan), 0)                     AS operating_income_wan,
        coalesce(sum(r.shortfall_wan), 0)                            AS shortfall_wan
    FROM periods AS pe
    LEFT JOIN reported AS r ON r.period = pe.period
    GROUP BY pe.period
),
all_rows AS (
    SELECT * FROM by_township
    UNION ALL
    SELECT * FROM county
)
SELECT
    period,
    township,
    township_code,
    CAST(villages_expected AS BIGINT)                                    AS villages_expected,
    CAST(villages_reported AS BIGINT)                                    AS villages_reported,
    CAST(villages_meeting_target AS BIGINT)                              AS villages_meeting_target,
    share_pct(villages_meeting_target, villages_expected)                AS share_meeting_target_pct,
    round_money(operating_income_wan)                                    AS operating_income_wan,
    round_money(shortfall_wan)                                           AS shortfall_wan
FROM all_rows
ORDER BY period, sort_group, township_code
