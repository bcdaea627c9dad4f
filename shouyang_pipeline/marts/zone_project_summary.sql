-- marts.zone_project_summary: key projects per period and zone (WAREHOUSE.md).
-- Every zone of reference.zones for every period with key_projects rows, zeros where a zone
-- has no project. Projects with no zone are not counted. staging.key_projects.zone already
-- holds the canonical zone_name (aliases were folded at ingest).
-- Sums of 万元 DECIMAL(18,4) are DECIMAL(38,4), 亿元 (× 0.0001, macros.sql: wan_to_yi) DECIMAL(38,8):
-- wide enough for anything staging accepts in any number of rows (see project_summary.sql).
WITH periods AS (
    SELECT DISTINCT period FROM staging.key_projects
),
sums AS (
    SELECT
        period,
        zone                                                  AS zone_name,
        count(*)                                              AS projects,
        sum(total_investment)                                 AS total_investment_wan,
        count(*) FILTER (WHERE total_investment >= 10000)    AS projects_over_100m,
        count(*) FILTER (WHERE is_productive)                 AS productive_projects,
        sum(ytd_investment)                                   AS ytd_investment_wan,
        sum(annual_plan_investment)                           AS annual_plan_wan
    FROM staging.key_projects
    WHERE zone IS NOT NULL
    GROUP BY period, zone
)
SELECT
    pe.period,
    z.zone_name,
    CAST(coalesce(s.projects, 0) AS BIGINT)                                         AS projects,
    wan_to_yi(coalesce(s.total_investment_wan, 0))                                  AS total_investment_yi,
    CAST(coalesce(s.projects_over_100m, 0) AS BIGINT)                               AS projects_over_100m,
    CAST(coalesce(s.productive_projects, 0) AS BIGINT)                              AS productive_projects,
    wan_to_yi(coalesce(s.ytd_investment_wan, 0))                                    AS ytd_investment_yi,
    wan_to_yi(coalesce(s.annual_plan_wan, 0))                                       AS annual_plan_yi
FROM periods AS pe
CROSS JOIN reference.zones AS z
LEFT JOIN sums AS s ON s.period = pe.period AND s.zone_name = z.zone_name
ORDER BY pe.period, z.rowid  -- the order of the reference list
