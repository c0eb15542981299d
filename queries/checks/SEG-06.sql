-- id: SEG-06
-- title: Isolation breach
-- severity: breach
-- regulation: isolated margin as a client's ring-fenced loss limit (17 CFR 1.20 adapted); transfer integrity
-- row: one isolated bucket (position and asset) touched by movements the isolation rule does not permit, or one transfer whose legs do not net to zero in an asset
-- requires: previous_day
-- partial: whether a released position closed or shrank, the payout bound, the insurance-fund deficit, the owner of a bucket not open today, and whether a position was cross at both closes
--
-- A movement on an isolated bucket (position_id set) is legitimate only if it is booked to the
-- position's own account and is
--   (a) a realized_pnl, fee, funding, liquidation or adl movement;
--   (b) a margin_transfer initiated by the user whose other legs (same transfer_id; at least one)
--       are all the same account's cross wallet (position_id NULL);
--   (c) a margin_release initiated by the system, out of the bucket (amount < 0), whose other legs
--       are all the same account's cross wallet, when the position closed (absent at today's
--       close) or its |quantity| fell since the previous close;
--   and in (b) and (c), the margin taken out of the bucket over the day (releases and transfers
--   out) may not exceed all the bucket held: its margin at the previous close plus the day's
--   credits other than insurance-fund ones. A bucket only pays out what it has, so in whatever
--   order the venue books the day this bound holds; beyond it, insurance-fund money (or money
--   from nowhere) leaves through the bucket to the client. On a bucket the insurance fund
--   credited today, each payout must also leave what the bucket held without those credits at
--   or above 0: its previous margin, the day's other credits (whenever booked), the debits of
--   earlier timestamps and the payouts of its own timestamp (a loss of the same timestamp
--   counts as after it). A payout after a loss the fund covered pays the fund's money to the client
--   (segregation review of 2026-12-05: margin 500, a liquidation of -600, a fund credit of 600
--   and a release of 500 passed every check, the fund paying 600 for a deficit of 100). A
--   payout before the loss (a reduce, then a liquidation of the rest) passes, and so does one
--   stamped exactly as the loss (diff review of 2026-12-05: one-second timestamps; the order
--   of movements with one timestamp is not known; at a finer grain, e.g. 10:00:00.5 after
--   10:00:00, the order is known and the payout is after the loss).
--   (d) an insurance_fund credit (amount > 0) covering the bucket's deficit, whose other legs (at
--       least one) all debit insurance_fund accounts. The deficit is judged over the whole day, not
--       at the credit's timestamp: deficit = -(previous isolated margin + every movement of the day
--       on the bucket except insurance-fund credits); the credits, counted in (ts, movement_id)
--       order up to this one, must not exceed it. (Venues book the loss, the credit and the last
--       funding of a liquidated bucket in varying orders; the day's total is what the fund covers.)
-- Anything else (operator adjustments included) is a breach. The bucket's owner is the account of
-- the position at today's or the previous close; a position_id absent at both closes is a bucket
-- opened and closed during the day, owned by the single account that moved it (several accounts ->
-- no owner: every movement fails). A movement naming a position that is cross at both closes is
-- also a breach: a cross position has no isolated bucket, so the money left the cross wallet for
-- nowhere. metric isolation_breach: value = the gross amount (sum of |amount|) of the offending
-- movements, asset units; threshold 0; the message names every movement and why it fails.
--
-- Transfers: every transfer_id whose legs do not sum to zero in an asset (all of today's
-- movements, whatever they touch): entity transfer / transfer_id, metric transfer_not_netting,
-- value = the net sum, threshold 0.
-- Requires the previous day: whether a position closed or shrank, and the bucket's opening margin,
-- come from the previous close. Without it ($prev_as_of NULL: the first day, or a day after a gap;
-- reports/checks/model.py, `partial`) the check runs in part: the transfer netting and every rule
-- on a movement's own kind, initiator, sign and other legs, and the owner test of positions open
-- today (the owner is the account at today's close). What needs the previous close is skipped,
-- never guessed: each rule skipped would only add reasons to a movement, so no movement is
-- flagged that the full check would not flag. A bucket's row may then flag fewer of its
-- movements than the full check (its gross value a lower bound): its message says so, and a
-- bucket not open today names no owner (it may have been one account's at the previous close).
WITH previous_positions AS (
    SELECT p.position_id, p.account_id, p.instrument_id, p.margin_mode, p.quantity, p.isolated_margin, i.settle_asset
    FROM positions AS p
    LEFT JOIN instruments AS i ON i.as_of_date = p.as_of_date AND i.instrument_id = p.instrument_id
    WHERE p.as_of_date = $prev_as_of
),
current_positions AS (
    SELECT p.position_id, p.account_id, p.instrument_id, p.margin_mode, p.quantity, p.isolated_margin, i.settle_asset
    FROM positions AS p
    LEFT JOIN instruments AS i ON i.as_of_date = p.as_of_date AND i.instrument_id = p.instrument_id
    WHERE p.as_of_date = $as_of
),
-- Performance (5M movements a day at 1M accounts): only the columns used are carried; the
-- running sums of rule (d) are computed for buckets with an insurance-fund credit only; the
-- per-movement detail strings are built for offending buckets and transfers only.
day_movements AS NOT MATERIALIZED (
    SELECT
        m.movement_id, m.ts, m.account_id, m.asset, m.amount, m.kind, m.position_id,
        m.transfer_id, m.initiated_by
    FROM movements AS m
    WHERE m.as_of_date = $as_of
),
intraday_owners AS (
    SELECT position_id, CASE WHEN min(account_id) = max(account_id) THEN min(account_id) END AS account_id
    FROM day_movements
    WHERE position_id IS NOT NULL
    GROUP BY position_id
),
buckets AS (
    SELECT
        o.position_id,
        $prev_as_of IS NOT NULL AS previous_known,
        -- unknown (NULL) without the previous close for a position not open today
        CASE WHEN $prev_as_of IS NULL THEN c.account_id
             ELSE coalesce(c.account_id, p.account_id, o.account_id) END AS owner_account_id,
        coalesce(c.instrument_id, p.instrument_id) AS instrument_id,
        $prev_as_of IS NOT NULL
            AND (c.position_id IS NOT NULL OR p.position_id IS NOT NULL)
            AND coalesce(c.margin_mode, 'cross') <> 'isolated'
            AND coalesce(p.margin_mode, 'cross') <> 'isolated' AS is_cross,
        c.position_id IS NULL AS closed,
        c.position_id IS NOT NULL AND p.position_id IS NOT NULL
            AND abs(c.quantity) < abs(p.quantity) AS reduced,
        CASE WHEN p.margin_mode = 'isolated' THEN coalesce(p.isolated_margin, 0) ELSE 0 END
            ::DECIMAL(38,18) AS previous_margin,
        p.settle_asset AS previous_settle_asset
    FROM intraday_owners AS o
    LEFT JOIN current_positions AS c ON c.position_id = o.position_id
    LEFT JOIN previous_positions AS p ON p.position_id = o.position_id
),
transfer_legs AS (
    -- the legs of transfers, with the account type (insurance-fund debits, rule (d))
    SELECT m.movement_id, m.transfer_id, m.account_id, m.position_id, m.amount, a.account_type
    FROM day_movements AS m
    LEFT JOIN accounts AS a ON a.as_of_date = $as_of AND a.account_id = m.account_id
    WHERE m.transfer_id IS NOT NULL
),
legs AS (
    -- for each bucket movement with a transfer_id: what its other legs are
    SELECT
        m.movement_id,
        count(o.movement_id) AS other_legs,
        count(o.movement_id) FILTER (WHERE o.account_id = m.account_id AND o.position_id IS NULL)
            AS own_cross_legs,
        count(o.movement_id) FILTER (WHERE o.account_type = 'insurance_fund' AND o.amount < 0)
            AS insurance_debit_legs
    FROM transfer_legs AS m
    LEFT JOIN transfer_legs AS o
        ON o.transfer_id = m.transfer_id AND o.movement_id <> m.movement_id
    WHERE m.position_id IS NOT NULL
    GROUP BY m.movement_id
),
bucket_flows AS (
    -- (b)/(c) bound: per bucket paying out today, what it paid out and all it received
    SELECT
        m.position_id,
        m.asset,
        -sum(m.amount) FILTER (WHERE m.amount < 0 AND m.kind IN ('margin_release', 'margin_transfer'))
            AS paid_out,
        coalesce(sum(m.amount) FILTER (WHERE m.amount > 0 AND m.kind <> 'insurance_fund'), 0)
            AS received
    FROM day_movements AS m
    WHERE m.position_id IS NOT NULL
    GROUP BY m.position_id, m.asset
    HAVING paid_out > 0
),
credited_buckets AS (
    -- rule (d): per bucket with an insurance-fund credit, the day's movements without the credits
    SELECT
        m.position_id,
        m.asset,
        sum(CASE WHEN m.kind = 'insurance_fund' AND m.amount > 0 THEN 0 ELSE m.amount END)
            AS movements_without_credits
    FROM day_movements AS m
    WHERE (m.position_id, m.asset) IN (
        SELECT (c.position_id, c.asset)
        FROM day_movements AS c
        WHERE c.kind = 'insurance_fund' AND c.amount > 0 AND c.position_id IS NOT NULL
    )
    GROUP BY m.position_id, m.asset
),
payout_balances AS (
    -- (b)/(c) on a bucket with an insurance-fund credit: each payout with what the bucket held
    -- without those credits when it paid: the day's other credits whole (a PnL booked seconds
    -- after the release it pays for), the debits of earlier timestamps, and the payouts of its
    -- own timestamp (a loss with the same timestamp counts as after it: their order is unknown)
    SELECT movement_id,
           credits_of_the_day + debits_to_now - debits_this_timestamp + payouts_this_timestamp
               AS running_without_credits
    FROM (
        SELECT
            m.movement_id,
            m.amount,
            m.kind,
            sum(CASE WHEN m.amount > 0 AND m.kind <> 'insurance_fund' THEN m.amount ELSE 0 END)
                OVER (PARTITION BY m.position_id, m.asset) AS credits_of_the_day,
            sum(least(m.amount, 0))
                OVER (PARTITION BY m.position_id, m.asset ORDER BY m.ts
                      RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS debits_to_now,
            sum(least(m.amount, 0))
                OVER (PARTITION BY m.position_id, m.asset, m.ts) AS debits_this_timestamp,
            sum(CASE WHEN m.amount < 0 AND m.kind IN ('margin_release', 'margin_transfer')
                     THEN m.amount ELSE 0 END)
                OVER (PARTITION BY m.position_id, m.asset, m.ts) AS payouts_this_timestamp
        FROM day_movements AS m
        JOIN credited_buckets AS cb ON cb.position_id = m.position_id AND cb.asset = m.asset
    )
    WHERE amount < 0 AND kind IN ('margin_release', 'margin_transfer')
),
credits AS (
    -- each credit with the credits of its bucket up to it, in (ts, movement_id) order
    SELECT
        m.movement_id,
        sum(m.amount) OVER (PARTITION BY m.position_id, m.asset ORDER BY m.ts, m.movement_id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS credits_to_date,
        cb.movements_without_credits
    FROM day_movements AS m
    JOIN credited_buckets AS cb ON cb.position_id = m.position_id AND cb.asset = m.asset
    WHERE m.kind = 'insurance_fund' AND m.amount > 0
),
bucket_movements AS (
    SELECT
        m.movement_id,
        m.ts,
        m.account_id,
        m.asset,
        m.amount,
        m.kind,
        m.position_id,
        m.transfer_id,
        m.initiated_by,
        b.previous_known,
        b.owner_account_id,
        b.instrument_id,
        b.is_cross,
        b.closed,
        b.reduced,
        coalesce(l.other_legs, 0) AS other_legs,
        coalesce(l.own_cross_legs, 0) AS own_cross_legs,
        coalesce(l.insurance_debit_legs, 0) AS insurance_debit_legs,
        -- on insurance-fund credits only (rule (d); NULL elsewhere): the bucket's balance at
        -- the end of the day without insurance-fund credits (< 0 = deficit), and the credits
        -- up to this one
        CASE WHEN b.previous_settle_asset = m.asset THEN b.previous_margin ELSE 0 END
        + c.movements_without_credits AS balance_without_credits,
        c.credits_to_date,
        -- on payouts (NULL elsewhere): the bucket's day payouts and all it held
        f.paid_out,
        CASE WHEN b.previous_settle_asset = m.asset THEN b.previous_margin ELSE 0 END
        + f.received AS held,
        -- on payouts from a bucket the insurance fund credited today (NULL elsewhere): its
        -- balance without those credits once the payout's timestamp is booked
        CASE WHEN b.previous_settle_asset = m.asset THEN b.previous_margin ELSE 0 END
        + pb.running_without_credits AS balance_at_payout
    FROM day_movements AS m
    JOIN buckets AS b ON b.position_id = m.position_id
    LEFT JOIN legs AS l ON l.movement_id = m.movement_id
    LEFT JOIN credits AS c ON c.movement_id = m.movement_id
    LEFT JOIN bucket_flows AS f
        ON m.amount < 0 AND m.kind IN ('margin_release', 'margin_transfer')
       AND f.position_id = m.position_id AND f.asset = m.asset
    LEFT JOIN payout_balances AS pb ON pb.movement_id = m.movement_id
),
judged AS (
    SELECT
        bm.*,
        CASE
            WHEN bm.is_cross THEN 'position ' || bm.position_id || ' is a cross position: it has no isolated bucket'
            WHEN bm.owner_account_id IS NULL AND bm.previous_known
                THEN 'several accounts move this bucket, which is open at neither close'
            WHEN bm.account_id <> bm.owner_account_id
                THEN 'booked to account ' || bm.account_id || ', not to the position''s account ' || bm.owner_account_id
            WHEN bm.kind IN ('realized_pnl', 'fee', 'funding', 'liquidation', 'adl') THEN NULL
            WHEN bm.kind = 'margin_transfer' THEN CASE
                WHEN bm.initiated_by <> 'user'
                    THEN 'a margin_transfer must be initiated by the user, not the ' || bm.initiated_by
                WHEN bm.transfer_id IS NULL OR bm.other_legs = 0
                    THEN 'a margin_transfer needs its other leg in the same account''s cross wallet; it has none'
                WHEN bm.own_cross_legs < bm.other_legs
                    THEN 'the other leg of transfer ' || bm.transfer_id || ' is not the same account''s cross wallet'
                WHEN bm.previous_known AND bm.paid_out > bm.held
                    THEN 'the bucket paid out ' || fmt_against(bm.paid_out, bm.held, 8) || ' today, more than all it held ('
                         || fmt_against(bm.held, bm.paid_out, 8) || ': the previous close plus the day''s credits other than insurance-fund ones)'
                WHEN bm.previous_known AND bm.balance_at_payout < 0
                    THEN 'paid out while the bucket stood at ' || fmt_against(bm.balance_at_payout, 0, 8)
                         || ' without the day''s insurance-fund credits: the fund''s money reached the client (the fund covers a deficit, never a payout)'
                END
            WHEN bm.kind = 'margin_release' THEN CASE
                WHEN bm.initiated_by <> 'system'
                    THEN 'a margin_release must be initiated by the system, not the ' || bm.initiated_by
                WHEN bm.amount >= 0 THEN 'a margin_release must take margin out of the bucket'
                WHEN bm.transfer_id IS NULL OR bm.other_legs = 0
                    THEN 'a margin_release needs its other leg in the same account''s cross wallet; it has none'
                WHEN bm.own_cross_legs < bm.other_legs
                    THEN 'the other leg of transfer ' || bm.transfer_id || ' is not the same account''s cross wallet'
                WHEN bm.previous_known AND NOT (bm.closed OR bm.reduced)
                    THEN 'released while the position neither closed nor reduced since the previous close'
                WHEN bm.previous_known AND bm.paid_out > bm.held
                    THEN 'the bucket paid out ' || fmt_against(bm.paid_out, bm.held, 8) || ' today, more than all it held ('
                         || fmt_against(bm.held, bm.paid_out, 8) || ': the previous close plus the day''s credits other than insurance-fund ones)'
                WHEN bm.previous_known AND bm.balance_at_payout < 0
                    THEN 'paid out while the bucket stood at ' || fmt_against(bm.balance_at_payout, 0, 8)
                         || ' without the day''s insurance-fund credits: the fund''s money reached the client (the fund covers a deficit, never a payout)'
                END
            WHEN bm.kind = 'insurance_fund' THEN CASE
                WHEN bm.amount <= 0 THEN 'an insurance_fund movement on a bucket may only credit it'
                WHEN bm.transfer_id IS NULL OR bm.other_legs = 0
                    THEN 'an insurance_fund credit needs its other leg debiting an insurance_fund account; it has none'
                WHEN bm.insurance_debit_legs < bm.other_legs
                    THEN 'the other leg of transfer ' || bm.transfer_id || ' does not debit an insurance_fund account'
                WHEN NOT bm.previous_known THEN NULL
                WHEN bm.balance_without_credits >= 0
                    THEN 'the bucket had no deficit to cover (its day closes at '
                         || fmt_amount(bm.balance_without_credits) || ' without insurance-fund credits)'
                WHEN bm.credits_to_date > -bm.balance_without_credits
                    THEN 'insurance-fund credits of ' || fmt_against(bm.credits_to_date, -bm.balance_without_credits, 8)
                         || ' exceed the bucket''s deficit ' || fmt_against(-bm.balance_without_credits, bm.credits_to_date, 8)
                END
            ELSE bm.kind || ' is not permitted on an isolated bucket'
        END AS reason
    FROM bucket_movements AS bm
),
offending_legs AS (
    -- the other legs of each offending movement's transfer, for its message only (a
    -- regulator's review of 2026-12-06: "the other leg of transfer T425 is not the same
    -- account's cross wallet" named neither); joined for the offending movements alone
    SELECT
        j.movement_id,
        string_agg(
            m.movement_id || ' ' || m.account_id || ' '
            || coalesce('bucket ' || m.position_id, 'cross wallet') || ' ' || fmt_amount(m.amount),
            ', ' ORDER BY m.movement_id) AS legs
    FROM judged AS j
    JOIN day_movements AS m ON m.transfer_id = j.transfer_id AND m.movement_id <> j.movement_id
    WHERE j.reason IS NOT NULL AND j.transfer_id IS NOT NULL
    GROUP BY j.movement_id
),
bucket_breaches AS (
    SELECT
        j.position_id,
        j.asset,
        any_value(j.instrument_id) AS instrument_id,
        any_value(coalesce(j.owner_account_id,
                           CASE WHEN j.previous_known THEN 'no single owner'
                                ELSE 'unknown (not open today; its owner is at the previous close)' END))
            AS owner_account_id,
        count(*) AS offending,
        sum(abs(j.amount)) AS gross_amount,
        string_agg(
            j.movement_id || ' ' || j.kind || ' ' || fmt_amount(j.amount) || ' ' || j.asset
            || ' by ' || j.initiated_by || ' (' || j.reason
            || coalesce('; the other legs of transfer ' || j.transfer_id || ': ' || ol.legs, '')
            || ')',
            '; ' ORDER BY j.movement_id) AS details
    FROM judged AS j
    LEFT JOIN offending_legs AS ol ON ol.movement_id = j.movement_id
    WHERE j.reason IS NOT NULL
    GROUP BY j.position_id, j.asset
),
unbalanced_transfers AS (
    SELECT m.transfer_id, m.asset, sum(m.amount) AS net_amount
    FROM day_movements AS m
    WHERE m.transfer_id IS NOT NULL
    GROUP BY m.transfer_id, m.asset
    HAVING sum(m.amount) <> 0
),
transfer_nets AS (
    SELECT
        u.transfer_id,
        u.asset,
        any_value(u.net_amount) AS net_amount,
        string_agg(
            m.movement_id || ' ' || m.account_id || ' '
            || coalesce('bucket ' || m.position_id, 'cross wallet') || ' ' || fmt_amount(m.amount),
            '; ' ORDER BY m.movement_id) AS details
    FROM unbalanced_transfers AS u
    JOIN day_movements AS m ON m.transfer_id = u.transfer_id AND m.asset = u.asset
    GROUP BY u.transfer_id, u.asset
)
SELECT
    'breach' AS status,
    'position' AS entity_type,
    b.position_id AS entity_id,
    b.instrument_id AS instrument_id,
    b.asset AS asset,
    'isolation_breach' AS metric,
    b.gross_amount AS value,
    0 AS threshold,
    format('{}isolated bucket of account {}: {} movement(s) break the isolation rule, gross {} {} (USD {}): {}',
           CASE WHEN $prev_as_of IS NULL
                THEN 'evaluated without the previous close (more of this bucket''s movements may fail once it is loaded): '
                ELSE '' END,
           b.owner_account_id, b.offending, fmt_amount(b.gross_amount), b.asset,
           fmt_usd(dmul(b.gross_amount, ap.price)), b.details) AS message
FROM bucket_breaches AS b
LEFT JOIN v_asset_prices AS ap ON ap.as_of_date = $as_of AND ap.asset = b.asset
UNION ALL
SELECT
    'breach' AS status,
    'transfer' AS entity_type,
    t.transfer_id AS entity_id,
    NULL AS instrument_id,
    t.asset AS asset,
    'transfer_not_netting' AS metric,
    t.net_amount AS value,
    0 AS threshold,
    format('legs of transfer {} do not net to zero in {}: net {} {} (USD {}); legs: {}',
           t.transfer_id, t.asset, fmt_amount(t.net_amount), t.asset,
           fmt_usd(dmul(t.net_amount, ap.price)), t.details) AS message
FROM transfer_nets AS t
LEFT JOIN v_asset_prices AS ap ON ap.as_of_date = $as_of AND ap.asset = t.asset
