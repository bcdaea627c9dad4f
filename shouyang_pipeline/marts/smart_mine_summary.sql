-- marts.smart_mine_summary: the intelligent working faces (5采21掘) per period and mine (WAREHOUSE.md).
-- For every period with smart_mines rows: one row per mine of reference.mines (zeros where a mine
-- has no face that period), plus 全县 (the county). staging.smart_mines.mine holds the canonical
-- mine_name, status the canonical 未开工 / 在建 / 已建成, face_type 采煤 / 掘进 (folded at ingest);
-- every face's mine is on the list, so 全县 is the sum of the mines.
--   faces                     faces on the list that period (one staging row each)
--   faces_built               已建成; of which mining_faces_built (采煤), heading_faces_built (掘进)
--   faces_under_construction  在建
--   faces_not_started         未开工
--   faces_with_5g             has_5g true (blank counts as 否)
--   investment_ytd_wan        sum of investment_ytd (blank ones not counted)
--   mining_faces, heading_faces   faces on the list by type, built or not
-- Counts are numbers of rows (BIGINT); sums of 万元 DECIMAL(18,4) are DECIMAL(38,4), held by the
-- DECIMAL(38,2) output for anything staging accepts in any number of rows.
WITH periods AS (
    SELECT DISTINCT period FROM staging.smart_mines
),
by_mine AS (
    SELECT
        period,
        mine                                                                  AS mine_name,
        count(*)                                                              AS faces,
        count(*) FILTER (WHERE status = '已建成')                             AS faces_built,
        count(*) FILTER (WHERE status = '已建成' AND face_type = '采煤')      AS mining_faces_built,
        count(*) FILTER (WHERE status = '已建成' AND face_type = '掘进')      AS heading_faces_built,
        count(*) FILTER (WHERE status = '在建')                               AS faces_under_construction,
        count(*) FILTER (WHERE status = '未开工')                             AS faces_not_started,
        count(*) FILTER (WHERE has_5g)                                        AS faces_with_5g,
        sum(investment_ytd)                                                   AS investment_ytd_wan,
        count(*) FILTER (WHERE face_type = '采煤')                            AS mining_faces,
        count(*) FILTER (WHERE face_type = '掘进')                            AS heading_faces
    FROM staging.smart_mines
    GROUP BY period, mine
),
mines AS (
    SELECT
        pe.period,
        m.mine_name,
        m.mine_code,
        1                                                   AS sort_group,
        m.rowid                                             AS sort_order,  -- the order of the list
        coalesce(s.faces, 0)                                AS faces,
        coalesce(s.faces_built, 0)                          AS faces_built,
        coalesce(s.mining_faces_built, 0)                   AS mining_faces_built,
        coalesce(s.heading_faces_built, 0)                  AS heading_faces_built,
        coalesce(s.faces_under_construction, 0)             AS faces_under_construction,
        coalesce(s.faces_not_started, 0)                    AS faces_not_started,
        coalesce(s.faces_with_5g, 0)                        AS faces_with_5g,
        coalesce(s.investment_ytd_wan, 0)                   AS investment_ytd_wan,
        coalesce(s.mining_faces, 0)                         AS mining_faces,
        coalesce(s.heading_faces, 0)                        AS heading_faces
    FROM periods AS pe
    CROSS JOIN reference.mines AS m
    LEFT JOIN by_mine AS s ON s.period = pe.period AND s.mine_name = m.mine_name
),
county AS (
    SELECT
        pe.period,
        '全县'                                              AS mine_name,
        CAST(NULL AS VARCHAR)                               AS mine_code,
        2                                                   AS sort_group,
        0                                                   AS sort_order,
        coalesce(sum(s.faces), 0)                           AS faces,
        coalesce(sum(s.faces_built), 0)                     AS faces_built,
        coalesce(sum(s.mining_faces_built), 0)              AS mining_faces_built,
        coalesce(sum(s.heading_faces_built), 0)             AS heading_faces_built,
        coalesce(sum(s.faces_under_construction), 0)        AS faces_under_construction,
        coalesce(sum(s.faces_not_started), 0)               AS faces_not_started,
        coalesce(sum(s.faces_with_5g), 0)                   AS faces_with_5g,
        coalesce(sum(s.investment_ytd_wan), 0)              AS investment_ytd_wan,
        coalesce(sum(s.mining_faces), 0)                    AS mining_faces,
        coalesce(sum(s.heading_faces), 0)                   AS heading_faces
    FROM periods AS pe
    LEFT JOIN by_mine AS s ON s.period = pe.period
    GROUP BY pe.period
),
all_rows AS (
    SELECT * FROM mines
    UNION ALL
    SELECT * FROM county
)
SELECT
    period,
    mine_name,
    mine_code,
    CAST(faces AS BIGINT)                                   AS faces,
    CAST(faces_built AS BIGINT)                             AS faces_built,
    CAST(mining_faces_built AS BIGINT)                      AS mining_faces_built,
    CAST(heading_faces_built AS BIGINT)                     AS heading_faces_built,
    CAST(faces_under_construction AS BIGINT)                AS faces_under_construction,
    CAST(faces_not_started AS BIGINT)                       AS faces_not_started,
    CAST(faces_with_5g AS BIGINT)                           AS faces_with_5g,
    round_money(investment_ytd_wan)                         AS investment_ytd_wan,
    CAST(mining_faces AS BIGINT)                            AS mining_faces,
    CAST(heading_faces AS BIGINT)                           AS heading_faces
FROM all_rows
ORDER BY period, sort_group, sort_order
