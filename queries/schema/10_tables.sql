-- One table per snapshot file (DESIGN.md section 6, public SQL): the file's columns plus
-- as_of_date. Every load of a date replaces that date's rows in one transaction, so years of
-- history sit side by side keyed by as_of_date. No PRIMARY KEY: the loader validates uniqueness
-- before inserting, and ART indexes would slow bulk replacement of a day.
-- Optional columns are filled with their documented defaults at load time.
-- movements.movement_id, one value per row, is stored with ZSTD: DuckDB's default, dictionary +
-- FSST, finds nothing to share in it and cost 0.1-0.5 s more of the insert of 5M movements (1M
-- accounts); the file grows 1%, and the checks that read it (SEG-05, SEG-06) took no longer.
-- ZSTD on account_id too saved as much again at the load, but cost the checks 0.4 s more
-- (SEG-05 and SEG-06 group movements by account) and 8% more file. A database made before
-- keeps its column as it was (CREATE TABLE IF NOT EXISTS); the rows are the same either way.

CREATE TABLE IF NOT EXISTS accounts (
    as_of_date DATE NOT NULL,
    account_id VARCHAR NOT NULL,
    account_type VARCHAR NOT NULL,
    group_id VARCHAR NOT NULL,
    client_category VARCHAR NOT NULL,
    jurisdiction VARCHAR,
    status VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS instruments (
    as_of_date DATE NOT NULL,
    instrument_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    quote_asset VARCHAR NOT NULL,
    settle_asset VARCHAR NOT NULL,
    contract_size DECIMAL(38,18) NOT NULL,
    expiry DATE
);

CREATE TABLE IF NOT EXISTS risk_tiers (
    as_of_date DATE NOT NULL,
    instrument_id VARCHAR NOT NULL,
    tier INTEGER NOT NULL,
    notional_floor DECIMAL(38,18) NOT NULL,
    notional_cap DECIMAL(38,18),            -- NULL on the last tier = unbounded
    maintenance_margin_rate DECIMAL(38,18) NOT NULL,
    maintenance_amount DECIMAL(38,18) NOT NULL,  -- computed by the cum recursion when not given
    max_leverage DECIMAL(38,18)
);

CREATE TABLE IF NOT EXISTS prices (
    as_of_date DATE NOT NULL,
    kind VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    price DECIMAL(38,18) NOT NULL
);

CREATE TABLE IF NOT EXISTS balances (
    as_of_date DATE NOT NULL,
    account_id VARCHAR NOT NULL,
    asset VARCHAR NOT NULL,
    balance DECIMAL(38,18) NOT NULL
);

CREATE TABLE IF NOT EXISTS positions (
    as_of_date DATE NOT NULL,
    position_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    instrument_id VARCHAR NOT NULL,
    margin_mode VARCHAR NOT NULL,
    quantity DECIMAL(38,18) NOT NULL,
    entry_price DECIMAL(38,18) NOT NULL,
    isolated_margin DECIMAL(38,18),
    leverage DECIMAL(38,18),
    reported_unrealized_pnl DECIMAL(38,18)
);

CREATE TABLE IF NOT EXISTS movements (
    as_of_date DATE NOT NULL,
    movement_id VARCHAR NOT NULL USING COMPRESSION zstd,
    ts TIMESTAMP NOT NULL,                  -- UTC
    account_id VARCHAR NOT NULL,
    asset VARCHAR NOT NULL,
    amount DECIMAL(38,18) NOT NULL,
    kind VARCHAR NOT NULL,
    position_id VARCHAR,
    transfer_id VARCHAR,
    initiated_by VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS custody (
    as_of_date DATE NOT NULL,
    wallet_id VARCHAR NOT NULL,
    custodian VARCHAR NOT NULL,
    asset VARCHAR NOT NULL,
    balance DECIMAL(38,18) NOT NULL,
    designation VARCHAR NOT NULL,
    wallet_type VARCHAR NOT NULL,
    custodian_type VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS capital (
    as_of_date DATE NOT NULL,
    item VARCHAR NOT NULL,
    amount DECIMAL(38,18) NOT NULL
);

CREATE TABLE IF NOT EXISTS volumes (
    as_of_date DATE NOT NULL,
    instrument_id VARCHAR NOT NULL,
    account_type VARCHAR NOT NULL,
    traded_notional DECIMAL(38,18) NOT NULL
);

-- Back-filled asset prices for VaR. as_of_date is the snapshot that brought the row; `date` is
-- the day the price belongs to.
CREATE TABLE IF NOT EXISTS price_history (
    as_of_date DATE NOT NULL,
    date DATE NOT NULL,
    asset VARCHAR NOT NULL,
    price DECIMAL(38,18) NOT NULL
);

-- Audit of every load: one row per file per load, append-only. A reload of a date adds rows;
-- the latest load_id of a date is the one whose data is in the tables.
CREATE TABLE IF NOT EXISTS loads (
    load_id VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    file VARCHAR NOT NULL,                  -- snapshot file name, e.g. positions
    source_path VARCHAR NOT NULL,
    format VARCHAR NOT NULL,                -- csv | csv.gz | parquet
    sha256 VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,           -- UTC
    tool_version VARCHAR NOT NULL,
    replaced BOOLEAN NOT NULL               -- the date was already loaded and has been replaced
);

-- Every check's outcome of every run, passes included; append-only.
CREATE TABLE IF NOT EXISTS check_results (
    run_id VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    check_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    status VARCHAR NOT NULL,                -- pass | warn | breach | not_evaluated | error
    exceptions BIGINT NOT NULL,
    message VARCHAR,                        -- why not_evaluated / error
    checked_at TIMESTAMP NOT NULL,          -- UTC
    config_sha256 VARCHAR                   -- Config.sha256() of the run, the manifest's
                                            -- config_sha256 (NULL: recorded before 2026-12-05)
);
-- a database made before the column existed gets it (its rows: NULL)
ALTER TABLE check_results ADD COLUMN IF NOT EXISTS config_sha256 VARCHAR;

-- Every exception row of every run (all of them, not a sample); append-only. A run_id recorded
-- twice (same inputs) has its rows twice, told apart by checked_at (the check_results rows of
-- the same recording have the same checked_at).
CREATE TABLE IF NOT EXISTS check_exceptions (
    run_id VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    check_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,                -- warn | breach
    entity_type VARCHAR NOT NULL,
    entity_id VARCHAR NOT NULL,
    instrument_id VARCHAR,
    asset VARCHAR,
    metric VARCHAR NOT NULL,
    value DECIMAL(38,18),
    threshold DECIMAL(38,18),
    message VARCHAR NOT NULL,
    checked_at TIMESTAMP                    -- UTC (NULL: recorded before 2026-12-05)
);
-- Databases made before checked_at existed (analyst review of 2026-12-05: the copies of a run
-- recorded twice could not be told apart).
ALTER TABLE check_exceptions ADD COLUMN IF NOT EXISTS checked_at TIMESTAMP;

-- The capital statement's headline figures of every check run in which CAP-01 ran (written in
-- the same transaction as that run's check_results rows); append-only. Read by the
-- capital_ratio_trend investigation. A run_id recorded twice (same inputs) has two identical
-- rows told apart by checked_at, as in check_results.
CREATE TABLE IF NOT EXISTS capital_results (
    run_id VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    regime VARCHAR NOT NULL,                -- ifr | cftc | mica
    own_funds DECIMAL(38,18) NOT NULL,      -- reporting currency
    requirement DECIMAL(38,18) NOT NULL,    -- reporting currency (IFR: D)
    ratio DECIMAL(38,18),                   -- own_funds / requirement; NULL when the requirement is 0
    early_warning_level DECIMAL(38,18) NOT NULL,  -- as a ratio of the requirement
    checked_at TIMESTAMP NOT NULL,          -- UTC; the check_results rows of the run share it
    capital_config_sha256 VARCHAR,          -- Config.capital_sha256() of the run (NULL: recorded
                                            -- before 2026-12-05, unknown)
    early_warning_amount DECIMAL(38,18)     -- reporting currency, as CAP-01 graded it (NULL:
                                            -- recorded before 2026-12-07; level x requirement)
);
-- a database made before a column existed gets it (its rows: NULL)
ALTER TABLE capital_results ADD COLUMN IF NOT EXISTS capital_config_sha256 VARCHAR;
-- the amount itself: under cftc the level is amount / requirement, rounded to 18 decimals, and
-- level x requirement read 749999.999999999999746242 for a 750,000 warning (audit 2026-12-07)
ALTER TABLE capital_results ADD COLUMN IF NOT EXISTS early_warning_amount DECIMAL(38,18);

-- Key stress and VaR figures of every check run in which CAP-04 / CAP-05 ran (same transaction
-- as its check_results rows); append-only. The next day's report reads its "previous day"
-- column from here instead of computing the stress and VaR of that day again.
--   worst_cover2_usd, worst_insurance_fund_usd  the scenario with the least insurance-fund
--                                              headroom over Cover-2 (CAP-04)
--   var_usd                                    VaR of the house + insurance-fund exposure (CAP-05)
CREATE TABLE IF NOT EXISTS run_figures (
    run_id VARCHAR NOT NULL,
    as_of_date DATE NOT NULL,
    figure VARCHAR NOT NULL,
    value DECIMAL(38,18) NOT NULL,
    checked_at TIMESTAMP NOT NULL           -- UTC; the check_results rows of the run share it
);
