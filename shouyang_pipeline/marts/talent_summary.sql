-- marts.talent_summary: the "十百千" talent counts per period, kind and field (WAREHOUSE.md).
-- For every period with talent rows: one row per talent_kind and field of the declared lists
-- (catalog/datasets/talent.py, KINDS and FIELDS, in their order: the macro declared_choices,
-- made by marts/build.py from those declarations), zeros where nothing was reported, and after
-- each kind's fields one row whose field is 合计 (the sum of that kind's fields).
-- staging.talent holds the canonical field and talent_kind (synonyms folded at ingest); its key
-- (field, talent_kind) is unique in a period, so a 合计 adds at most one INTEGER per field:
-- BIGINT holds it.
WITH periods AS (
    SELECT DISTINCT period FROM staging.talent
),
kinds AS (
    SELECT talent_kind, kind_order
    FROM unnest(declared_choices('talent', 'talent_kind')) WITH ORDINALITY AS k(talent_kind, kind_order)
),
fields AS (
    SELECT field, field_order
    FROM unnest(declared_choices('talent', 'field')) WITH ORDINALITY AS f(field, field_order)
),
reported AS (
    SELECT period, talent_kind, field, sum(connected_ytd) AS connected_ytd, sum(recruited_ytd) AS recruited_ytd
    FROM staging.talent
    GROUP BY period, talent_kind, field
),
by_field AS (
    SELECT
        pe.period,
        k.talent_kind,
        k.kind_order,
        f.field,
        f.field_order,
        coalesce(r.connected_ytd, 0)                        AS connected_ytd,
        coalesce(r.recruited_ytd, 0)                        AS recruited_ytd
    FROM periods AS pe
    CROSS JOIN kinds AS k
    CROSS JOIN fields AS f
    LEFT JOIN reported AS r
      ON r.period = pe.period AND r.talent_kind = k.talent_kind AND r.field = f.field
),
totals AS (
    SELECT
        period,
        talent_kind,
        kind_order,
        '合计'                                              AS field,
        (SELECT count(*) FROM fields) + 1                   AS field_order,  -- after the fields
        sum(connected_ytd)                                  AS connected_ytd,
        sum(recruited_ytd)                                  AS recruited_ytd
    FROM by_field
    GROUP BY period, talent_kind, kind_order
),
all_rows AS (
    SELECT * FROM by_field
    UNION ALL
    SELECT * FROM totals
)
SELECT
    period,
    talent_kind,
    field,
    CAST(connected_ytd AS BIGINT)                           AS connected_ytd,
    CAST(recruited_ytd AS BIGINT)                           AS recruited_ytd
FROM all_rows
ORDER BY period, kind_order, field_order
