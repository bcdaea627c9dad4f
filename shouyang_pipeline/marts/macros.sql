-- The expressions the marts share, as DuckDB macros: how 万元 become 亿元, how a ratio becomes a
-- percentage shown to one decimal, and so on, written once.
--
-- `marts/build.py` runs this file on the building connection before every mart. The macros are
-- TEMP: they live in that connection only and are never stored in the warehouse analysts open
-- (which holds tables, not functions). To run a mart's SQL by hand, in the DuckDB CLI on the
-- warehouse (read-only is fine: TEMP macros are the connection's own), read this file first:
--     .read shouyang_pipeline/marts/macros.sql
-- One more macro is made with these from the catalogue rather than written here (marts/build.py,
-- catalogue_macros_sql): declared_choices(dataset, field), the choices of a field's one_of rule in
-- their declared order (talent_summary's kinds and fields). To run talent_summary.sql by hand, make
-- it too: python -c "from shouyang_pipeline.marts.build import catalogue_macros_sql as m; print(m())"
--
-- Every macro is an expression of its arguments only: it reads no table (a mart's lineage is the
-- tables its own SQL names) and is inlined where it is called, so a mart computes in exactly the
-- types of the expression spelled out.

-- Money as shown (万元 or 亿元): rounded 四舍五入 (half away from zero) to 2 decimals.
CREATE OR REPLACE TEMP MACRO round_money(amount) AS CAST(round(amount, 2) AS DECIMAL(38,2));

-- 万元 → 亿元, unrounded: × 0.0001 in DECIMAL (a sum of DECIMAL(18,4) 万元 is DECIMAL(38,4), × 0.0001
-- DECIMAL(38,8)), exact.
CREATE OR REPLACE TEMP MACRO yi_unrounded(wan) AS wan * 0.0001;

-- 万元 → 亿元 as shown.
CREATE OR REPLACE TEMP MACRO wan_to_yi(wan) AS round_money(yi_unrounded(wan));

-- 万元 as a label: 40 → '40', 40.5 → '40.5' (the band names of village_income).
CREATE OR REPLACE TEMP MACRO wan_label(wan) AS rtrim(rtrim(CAST(CAST(wan AS DECIMAL(38,4)) AS VARCHAR), '0'), '.');

-- part ÷ whole × 100, unrounded: a DOUBLE (DuckDB divides DECIMALs in DOUBLE); NULL when whole is 0.
CREATE OR REPLACE TEMP MACRO ratio_pct(part, whole) AS part * 100 / nullif(whole, 0);

-- The growth of cur over prev in %, (cur ÷ prev − 1) × 100 = (cur − prev) × 100 ÷ prev, unrounded
-- (DOUBLE); NULL when prev is 0. Taken on unrounded sums.
CREATE OR REPLACE TEMP MACRO growth_pct(cur, prev) AS ratio_pct(cur - prev, prev);

-- An unrounded DOUBLE percentage shown to 1 decimal (DECIMAL(38,1)). Below 1e27 the DOUBLE is
-- fixed to 10 decimals (DECIMAL(38,10)) before rounding, so that 10.55 rounds to 10.6 (四舍五入),
-- never to 10.5 by binary noise; from 1e27 on (beyond DECIMAL(38,10), and where a DOUBLE has no
-- fraction left) it is taken as it is.
CREATE OR REPLACE TEMP MACRO round_pct(pct) AS
    CASE WHEN abs(pct) < 1e27 THEN round(CAST(pct AS DECIMAL(38,10)), 1)
         ELSE CAST(pct AS DECIMAL(38,1)) END;

-- pct − other in percentage points, shown to 1 decimal: pct fixed as in round_pct, then the
-- other figure (a DECIMAL) subtracted before rounding, so both are unrounded.
CREATE OR REPLACE TEMP MACRO round_gap(pct, other) AS
    CASE WHEN abs(pct) < 1e27 THEN round(CAST(pct AS DECIMAL(38,10)) - other, 1)
         ELSE CAST(pct - other AS DECIMAL(38,1)) END;

-- The same two figures unrounded, as DOUBLE, for comparisons and signs: fixed to 10 decimals as
-- in round_pct, so that a sign or a comparison never sees binary noise.
CREATE OR REPLACE TEMP MACRO exact_pct(pct) AS
    CASE WHEN abs(pct) < 1e27 THEN CAST(CAST(pct AS DECIMAL(38,10)) AS DOUBLE) ELSE pct END;
CREATE OR REPLACE TEMP MACRO exact_gap(pct, other) AS
    CASE WHEN abs(pct) < 1e27 THEN CAST(CAST(pct AS DECIMAL(38,10)) - other AS DOUBLE)
         ELSE pct - other END;

-- part ÷ whole × 100 of two counts, shown to 1 decimal (at most 100 when part ≤ whole); the count
-- is taken as DOUBLE so that count × 100 cannot overflow a BIGINT. NULL when whole is 0.
CREATE OR REPLACE TEMP MACRO share_pct(part, whole) AS
    CAST(round(CAST(ratio_pct(CAST(part AS DOUBLE), whole) AS DECIMAL(38,10)), 1) AS DECIMAL(38,1));
