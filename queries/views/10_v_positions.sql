-- v_positions: every open position with its valuation and margin figures (DESIGN.md section 4).
--
-- The valuation itself (notional, uPnL, tier, maintenance margin, liquidation and bankruptcy
-- prices, USD values; formulas in reports/valuation.py's docstring) is computed per date in
-- Polars when the date is loaded, in the load's transaction, and stored in position_values;
-- v_positions reads that table. Every check, report figure and investigation thereby sees the
-- same numbers without re-valuing 2M positions each.
--
-- v_position_inputs: each position with what its valuation reads (instrument, account, mark,
-- settle-asset price). All joins include as_of_date: the history of every date sits side by side.
CREATE OR REPLACE VIEW v_position_inputs AS
SELECT
    p.as_of_date,
    p.position_id,
    p.account_id,
    a.account_type,
    a.group_id,
    p.instrument_id,
    i.kind,
    i.kind IN ('inverse_perpetual', 'inverse_future') AS is_inverse,
    p.margin_mode,
    p.margin_mode = 'isolated' AS is_isolated,
    p.quantity,
    i.contract_size,
    p.entry_price,
    m.price AS mark_price,
    i.underlying,
    i.quote_asset,
    i.settle_asset,
    sp.price AS settle_price,
    p.isolated_margin,
    p.reported_unrealized_pnl,
    p.leverage
FROM positions AS p
LEFT JOIN instruments AS i
    ON i.as_of_date = p.as_of_date AND i.instrument_id = p.instrument_id
LEFT JOIN accounts AS a
    ON a.as_of_date = p.as_of_date AND a.account_id = p.account_id
LEFT JOIN prices AS m
    ON m.as_of_date = p.as_of_date AND m.kind = 'instrument' AND m.symbol = p.instrument_id
LEFT JOIN v_asset_prices AS sp
    ON sp.as_of_date = p.as_of_date AND sp.asset = i.settle_asset;

-- Kept across runs of these scripts; reports.db.init_schema drops it first, and values every
-- stored date again, when what computes it changed (reports.db.derivation).
CREATE TABLE IF NOT EXISTS position_values (
    as_of_date DATE NOT NULL,
    position_id VARCHAR NOT NULL,
    account_id VARCHAR,
    account_type VARCHAR,
    group_id VARCHAR,
    instrument_id VARCHAR,
    kind VARCHAR,
    is_inverse BOOLEAN,
    margin_mode VARCHAR,
    quantity DECIMAL(38,18),
    side INTEGER,
    contract_size DECIMAL(38,18),
    base_quantity DECIMAL(38,18),
    entry_price DECIMAL(38,18),
    mark_price DECIMAL(38,18),
    underlying VARCHAR,
    quote_asset VARCHAR,
    settle_asset VARCHAR,
    notional DECIMAL(38,18),
    settle_price DECIMAL(38,18),
    notional_usd DECIMAL(38,18),
    unrealized_pnl DECIMAL(38,18),
    unrealized_pnl_usd DECIMAL(38,18),
    tier INTEGER,
    maintenance_margin_rate DECIMAL(38,18),
    maintenance_amount DECIMAL(38,18),
    maintenance_margin DECIMAL(38,18),
    isolated_margin DECIMAL(38,18),
    isolated_equity DECIMAL(38,18),
    liquidation_price DECIMAL(38,18),
    bankruptcy_price DECIMAL(38,18),
    reported_unrealized_pnl DECIMAL(38,18),
    leverage DECIMAL(38,18)  -- positions' own column (DESIGN.md section 6: v_positions adds to them)
);

CREATE OR REPLACE VIEW v_positions AS SELECT * FROM position_values;
