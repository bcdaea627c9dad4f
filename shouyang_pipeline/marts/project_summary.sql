-- marts.project_summary: key projects per period and scope (WAREHOUSE.md).
-- One row per period that has key_projects rows and per scope, even a scope with 0 projects.
-- Money: staging is 万元 DECIMAL(18,4); its sums are DECIMAL(38,4) and 亿元 = 万元 × 0.0001 is
-- DECIMAL(38,8), kept DECIMAL so round() is 四舍五入 (half away from zero). Ratios are computed
-- from unrounded sums, then rounded (macros.sql: wan_to_yi, ratio_pct, round_pct, share_pct).
-- Types (catalog/marts.py) hold anything staging accepts, in
-- any number of rows: a sum ≤ 2^63 rows × 1e10 万元 ≈ 9.2e28 万元; a completion ≤ that × 100 ÷
-- 0.0001 (the smallest plan) ≈ 9.2e34 %.
WITH periods AS (
    SELECT DISTINCT period FROM staging.key_projects
),
scopes(scope, scope_order) AS (
    VALUES ('全部', 1), ('市级及以上', 2), ('省级', 3)
),
projects_in_scope AS (
    -- A 省级 project is also on the city list, so it counts in 市级及以上.
    SELECT s.scope, p.*
    FROM staging.key_projects AS p
    JOIN scopes AS s
      ON s.scope = '全部'
      OR (s.scope = '市级及以上' AND p.level IN ('省级', '市级'))
      OR (s.scope = '省级' AND p.level = '省级')
),
sums AS (
    SELECT
        period,
        scope,
        count(*)                                                     AS projects,
        sum(total_investment)                                        AS total_investment_wan,
        sum(annual_plan_investment)                                  AS annual_plan_wan,
        sum(ytd_investment)                                          AS ytd_investment_wan,
        -- DOUBLE; NULL when the annual plan is 0
        ratio_pct(sum(ytd_investment), sum(annual_plan_investment))  AS completion,
        count(*) FILTER (WHERE status IN ('新开工', '复工', '续建', '竣工')) AS started_projects,
        count(*) FILTER (WHERE total_investment >= 10000)           AS projects_over_100m,
        count(*) FILTER (WHERE is_productive)                        AS productive_projects
    FROM projects_in_scope
    GROUP BY period, scope
)
SELECT
    pe.period,
    sc.scope,
    CAST(coalesce(s.projects, 0) AS BIGINT)                                         AS projects,
    wan_to_yi(coalesce(s.total_investment_wan, 0))                                  AS total_investment_yi,
    wan_to_yi(coalesce(s.annual_plan_wan, 0))                                       AS annual_plan_yi,
    wan_to_yi(coalesce(s.ytd_investment_wan, 0))                                    AS ytd_investment_yi,
    -- NULL when the annual plan is 0 (or there is no project in the scope)
    round_pct(s.completion)                                                         AS plan_completion_pct,
    CAST(coalesce(s.started_projects, 0) AS BIGINT)                                 AS started_projects,
    -- at most 100; NULL when there is no project in the scope
    share_pct(s.started_projects, s.projects)                                       AS start_rate_pct,
    CAST(coalesce(s.projects_over_100m, 0) AS BIGINT)                               AS projects_over_100m,
    CAST(coalesce(s.productive_projects, 0) AS BIGINT)                              AS productive_projects
FROM periods AS pe
CROSS JOIN scopes AS sc
LEFT JOIN sums AS s ON s.period = pe.period AND s.scope = sc.scope
ORDER BY pe.period, sc.scope_order
