-- Exact decimal arithmetic for money (DESIGN.md section 4: compute at full precision).
--
-- DuckDB types the product of two DECIMAL(38,18) as DECIMAL(38,36) (it overflows at 100) and
-- the quotient of two decimals as DOUBLE. Every amount here is DECIMAL(38,18), so products and
-- quotients go through these macros instead of `*` and `/`:
--   dmul(a, b): the exact product rounded half-up to 18 decimals. Each operand is split into
--     its integer and fractional parts; the three cross terms with an integer part are exact in
--     DECIMAL(38,18) and only frac*frac (< 1) is rounded.
--   ddiv(a, b): the quotient to 18 decimals: a DOUBLE first guess, then one correction with the
--     remainder a - dmul(guess, b). No float leaves it, but it is not exact: the error is below
--     1e-18 x (1 + 1/|b|) (dmul's rounding, divided by b) plus 1e-31 of the quotient (the
--     correction's own float precision); see README "Numbers".
-- Both return DECIMAL(38,18) and raise (never wrap) on overflow beyond 20 integer digits.
--   mul_cmp(x, a, b): the sign of x - a x b (-1, 0 or 1), exactly. dmul(a, b) rounds only
--     frac*frac, by at most 5e-19, so x - dmul(a, b), a multiple of 1e-18, has the exact sign
--     unless it is 0; then the sign of that rounding decides. Thresholds on shares are graded
--     with it, without a quotient: x / a >= t  <=>  mul_cmp(x, a, t) >= 0 for a > 0 (ddiv's
--     error grows as 1/a: a share exactly at its threshold came out under it, found in review).

CREATE OR REPLACE MACRO dmul(a, b) AS (
    trunc(a::DECIMAL(38,18))::DECIMAL(38,0) * trunc(b::DECIMAL(38,18))::DECIMAL(38,0)
    + trunc(a::DECIMAL(38,18))::DECIMAL(38,0) * (b::DECIMAL(38,18) - trunc(b::DECIMAL(38,18)))::DECIMAL(18,18)
    + (a::DECIMAL(38,18) - trunc(a::DECIMAL(38,18)))::DECIMAL(18,18) * trunc(b::DECIMAL(38,18))::DECIMAL(38,0)
    + ((a::DECIMAL(38,18) - trunc(a::DECIMAL(38,18)))::DECIMAL(18,18)
       * (b::DECIMAL(38,18) - trunc(b::DECIMAL(38,18)))::DECIMAL(18,18))::DECIMAL(38,18)
)::DECIMAL(38,18);

CREATE OR REPLACE MACRO mul_cmp(x, a, b) AS (
    CASE WHEN x::DECIMAL(38,18) > dmul(a, b) THEN 1
         WHEN x::DECIMAL(38,18) < dmul(a, b) THEN -1
         ELSE sign(
             ((a::DECIMAL(38,18) - trunc(a::DECIMAL(38,18)))::DECIMAL(18,18)
              * (b::DECIMAL(38,18) - trunc(b::DECIMAL(38,18)))::DECIMAL(18,18))
                 ::DECIMAL(38,18)::DECIMAL(38,36)
             - ((a::DECIMAL(38,18) - trunc(a::DECIMAL(38,18)))::DECIMAL(18,18)
                * (b::DECIMAL(38,18) - trunc(b::DECIMAL(38,18)))::DECIMAL(18,18))::DECIMAL(38,36))
    END
);

-- on_side(q, c, t): a share q (a quotient, within about 1e-18 of the exact share) shown on the
-- side of threshold t that its exact comparison c = mul_cmp(x, a, t) says: t itself at a tie,
-- at least t + 1e-18 above it, at most t - 1e-18 below it. The quotient can land across t (found
-- in review: a breach showed 0.099999999999999999 against 0.10); a shown share never
-- contradicts its grade. A NULL share (too large to hold) stays NULL: greatest() would make it
-- t + 1e-18 (concentration review of 2026-12-05).
CREATE OR REPLACE MACRO on_side(q, c, t) AS (
    CASE WHEN q IS NULL THEN NULL::DECIMAL(38,18)
         WHEN c > 0 THEN greatest(q::DECIMAL(38,18), t::DECIMAL(38,18) + 0.000000000000000001)
         WHEN c = 0 THEN t::DECIMAL(38,18)
         WHEN c < 0 THEN least(q::DECIMAL(38,18), t::DECIMAL(38,18) - 0.000000000000000001)
         ELSE q::DECIMAL(38,18) END
);

CREATE OR REPLACE MACRO ddiv(a, b) AS (
    (a::DOUBLE / b::DOUBLE)::DECIMAL(38,18)
    + ((a::DECIMAL(38,18) - dmul((a::DOUBLE / b::DOUBLE)::DECIMAL(38,18), b))::DOUBLE
       / b::DOUBLE)::DECIMAL(38,18)
)::DECIMAL(38,18);

-- Presentation of amounts in exception messages (DESIGN.md section 4, "Rounding"): half-even,
-- thousands separators, exact (no float on the way). fmt_amount: asset amounts, prices and
-- ratios, 8 decimals; fmt_usd: reporting-currency amounts, 2 decimals. NULL prints as n/a.
CREATE OR REPLACE MACRO fmt_decimal(x, places) AS (
    CASE WHEN x IS NULL THEN 'n/a' ELSE
        CASE WHEN round_even(x::DECIMAL(38,18), places) < 0 THEN '-' ELSE '' END
        || format('{:,}', trunc(abs(round_even(x::DECIMAL(38,18), places)))::HUGEINT)
        || CASE WHEN places > 0
                THEN '.' || split_part(abs(round_even(x::DECIMAL(38,18), places))::VARCHAR, '.', 2)
                ELSE '' END
    END
);
-- A figure next to the threshold it is graded against: `places` decimals, or as many as it
-- takes (up to 18) where `places` would print the threshold itself for a figure that is not
-- exactly it: a CON-06 share of 25.000000001% is above a limit of 25%, and must not read
-- "25.00% ... above 25.00%"; a roll-forward difference of 1e-9 against a tolerance of 0 must
-- not read 0.00000000. Compared in magnitude (a difference's sign is beside the point). The
-- messages print the threshold the same way against the figure (a limit of 25.001% next to a
-- share of 25.00%). A figure exactly at a threshold that has more decimals gets them too (a CON-06
-- share of exactly 18.00001% read "18.00% ... at or above 18.00001%"; concentration audit of
-- 2026-12-07).
CREATE OR REPLACE MACRO fmt_against(x, t, places) AS (
    CASE WHEN x IS NOT NULL AND t IS NOT NULL
              AND round_even(abs(x)::DECIMAL(38,18), places)
                  = round_even(abs(t)::DECIMAL(38,18), places)
              AND length(split_part(rtrim(fmt_decimal(x, 18), '0'), '.', 2)) > places
         THEN rtrim(fmt_decimal(x, 18), '0')
         ELSE fmt_decimal(x, places) END
);
-- A share as a percentage next to its threshold (a share), 2 decimals as above.
CREATE OR REPLACE MACRO fmt_pct_against(x, t) AS fmt_against(x::DECIMAL(38,18) * 100, t::DECIMAL(38,18) * 100, 2);
-- A configured threshold: `places` decimals, or every digit it has when it has more (a setting
-- is stated, not rounded: a CON-06 warn share of 0.00001 printed "0.00%", PDF review of
-- 2026-12-05). fmt_pct_setting: a share as a percentage so.
CREATE OR REPLACE MACRO fmt_setting(t, places) AS (
    CASE WHEN t IS NOT NULL AND round_even(t::DECIMAL(38,18), places) <> t::DECIMAL(38,18)
         THEN rtrim(fmt_decimal(t, 18), '0')
         ELSE fmt_decimal(t, places) END
);
CREATE OR REPLACE MACRO fmt_pct_setting(t) AS fmt_setting(t::DECIMAL(38,18) * 100, 2);
CREATE OR REPLACE MACRO fmt_amount(x) AS fmt_decimal(x, 8);
CREATE OR REPLACE MACRO fmt_usd(x) AS fmt_decimal(x, 2);
