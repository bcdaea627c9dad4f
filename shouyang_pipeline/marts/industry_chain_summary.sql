-- marts.industry_chain_summary: the eight industry chains, per period.
-- All eight chains of reference.industry_chains for every period that has industrial_output
-- OR key_projects rows (so 2023-01, with projects but no industrial file, has eight rows of
-- projects and zero enterprises). Zeros where a chain has nothing reported.
--   yoy_growth_pct  (value_added_ytd ÷ value_added_prev_ytd − 1) × 100, NULL when prev is 0;
--                   rounded as macros.sql says (growth_pct, round_pct: 10.55 → 10.6)
-- Sums of 万元 DECIMAL(18,4) are DECIMAL(38,4), 亿元 (× 0.0001) DECIMAL(38,8); the growth is a
-- DOUBLE ≤ 9.2e34: every output type holds anything staging accepts in any number of rows.
WITH periods AS (
    SELECT period FROM staging.industrial_output
    UNION
    SELECT period FROM staging.key_projects
),
industry AS (
    SELECT
        period,
        industry_chain                  AS chain_name,
        count(*)                        AS enterprises,
        sum(value_added_ytd)            AS value_added_ytd_wan,
        sum(value_added_prev_ytd)       AS value_added_prev_ytd_wan,
        growth_pct(sum(value_added_ytd), sum(value_added_prev_ytd)) AS yoy_growth_exact  -- DOUBLE
    FROM staging.industrial_output
    WHERE industry_chain IS NOT NULL
    GROUP BY period, industry_chain
),
projects AS (
    SELECT
        period,
        industry_chain                  AS chain_name,
        count(*)                        AS projects,
        sum(total_investment)           AS total_investment_wan,
        sum(ytd_investment)             AS ytd_investment_wan
    FROM staging.key_projects
    WHERE industry_chain IS NOT NULL
    GROUP BY period, industry_chain
)
SELECT
    pe.period,
    ch.chain_name,
    ch.chain_code,
    CAST(coalesce(i.enterprises, 0) AS BIGINT)                                            AS enterprises,
    wan_to_yi(coalesce(i.value_added_ytd_wan, 0))                                         AS value_added_ytd_yi,
    wan_to_yi(coalesce(i.value_added_prev_ytd_wan, 0))                                    AS value_added_prev_ytd_yi,
    round_pct(i.yoy_growth_exact)                                                         AS yoy_growth_pct,
    CAST(coalesce(p.projects, 0) AS BIGINT)                                               AS projects,
    wan_to_yi(coalesce(p.total_investment_wan, 0))                                        AS project_total_investment_yi,
    wan_to_yi(coalesce(p.ytd_investment_wan, 0))                                          AS project_ytd_investment_yi
FROM periods AS pe
CROSS JOIN reference.industry_chains AS ch
LEFT JOIN industry AS i ON i.period = pe.period AND i.chain_name = ch.chain_name
LEFT JOIN projects AS p ON p.period = pe.period AND p.chain_name = ch.chain_name
ORDER BY pe.period, ch.rowid  -- the order of the reference list
