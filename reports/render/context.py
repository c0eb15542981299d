"""Typed template context of report.pdf (datasette-style context dataclasses).

Everything a template shows is here, already formatted as text (numbers rounded half-even as
DESIGN.md section 4 says, thousands separated): templates only lay out, they compute nothing.
Only aggregates and the first N rows of detail reach the context, so the PDF's size and render
time do not grow with the number of accounts; the detail is in the CSVs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# How many rows of detail the PDF shows (the CSVs hold all of them).
EXCEPTIONS_SHOWN = 40
INTEGRITY_SHOWN = 25
LARGE_EXPOSURES_SHOWN = 15
OI_BARS_SHOWN = 10
GROUP_SHORTFALLS_SHOWN = 5
TREND_POINTS_SHOWN = 60


@dataclass(frozen=True)
class Chart:
    """An inline SVG chart (reports.render.charts) with its caption."""

    title: str
    svg: str
    caption: str = ""


@dataclass(frozen=True)
class CheckRow:
    check_id: str
    title: str
    status: str
    exceptions: int
    message: str = ""  # why not_evaluated / error
    regulation: str = ""
    row_meaning: str = ""


@dataclass(frozen=True)
class FamilyStatus:
    """Worst status of one check family (SEG, CON, CAP)."""

    family: str
    label: str
    status: str
    checks: int
    exceptions: int
    breaches: tuple[str, ...] = ()  # check ids at breach
    warnings: tuple[str, ...] = ()  # check ids at warn
    # check ids not evaluated: a family whose only evaluated check passed reads PASS, so the
    # table names what did not count (regime audit of 2026-12-07: CFTC without adjusted net
    # capital showed the capital family PASS with CAP-01..03 not evaluated)
    not_evaluated: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyFigure:
    """One executive-summary figure with its day-over-day change."""

    label: str
    value: str
    previous: str = ""  # "" when no previous stored day
    change: str = ""
    status: str = ""  # pass | warn | breach | "" (informational)
    note: str = ""


@dataclass(frozen=True)
class StatementLine:
    """One line of a segregation statement: label, amount in asset units and in USD."""

    label: str
    units: str
    usd: str
    kind: str = "line"  # line | sub | total | result
    ref: str = ""  # 17 CFR reference of the line


@dataclass(frozen=True)
class SegregationAsset:
    asset: str
    price: str
    status: str  # pass | breach (SEG-01) | warn (SEG-02)
    coverage_ratio: str
    deficit_accounts: int
    lines: tuple[StatementLine, ...]


@dataclass(frozen=True)
class SegregationTotalRow:
    asset: str
    requirement_usd: str
    held_usd: str
    excess_usd: str
    coverage_ratio: str
    status: str


@dataclass(frozen=True)
class IntegrityRow:
    """A SEG-03/05/06/07 exception with the position it names."""

    check_id: str
    status: str
    metric: str
    position_id: str
    account_id: str
    instrument_id: str
    asset: str
    margin_mode: str
    quantity: str
    isolated_margin: str
    isolated_equity: str
    maintenance_margin: str
    value: str
    message: str


@dataclass(frozen=True)
class InstrumentConcentration:
    instrument_id: str
    open_interest: str
    open_interest_usd: str
    hhi: str
    holders: str
    hhi_status: str
    top_group: str
    top_group_share: str
    top_group_status: str
    exempt: bool
    top_group_share_ratio: str = ""  # the plain ratio, 8 decimals (DESIGN.md section 4)


@dataclass(frozen=True)
class ShareRow:
    """A share of a whole: custodian (CON-03), asset (CON-05), hot wallets (CON-04)."""

    name: str
    amount_usd: str
    share: str
    threshold: str
    status: str
    share_ratio: str = ""  # the plain ratio, 8 decimals (DESIGN.md section 4)


@dataclass(frozen=True)
class LargeExposureRow:
    counterparty: str
    kind: str
    exposure_usd: str
    share: str
    limit_usd: str
    excess_usd: str
    status: str
    share_ratio: str = ""  # the plain ratio, 8 decimals (DESIGN.md section 4)


@dataclass(frozen=True)
class CapitalLine:
    line: int
    item: str
    amount: str


@dataclass(frozen=True)
class CompositionRow:
    label: str
    amount: str
    share: str
    minimum: str
    met: bool


@dataclass(frozen=True)
class CapitalSection:
    regime: str
    regime_label: str
    currency: str
    own_funds: str
    requirement: str
    ratio: str  # percent
    ratio_plain: str  # 8 dp plain ratio
    early_warning_level: str
    early_warning_amount: str
    own_funds_label: str  # the regime's word: "Adjusted net capital (own funds)" under cftc
    requirement_label: str
    binding: str
    status: str  # CAP-01 status
    components: tuple[tuple[str, str], ...]  # (name, amount) PMR, FOR, K-..., KFR, D
    composition: tuple[CompositionRow, ...]
    liquidity: tuple[tuple[str, str], ...]  # (label, amount)
    liquidity_met: bool | None
    lines: tuple[CapitalLine, ...]
    notes: tuple[str, ...]
    trend: Chart | None
    trend_source: str
    unavailable: str = ""  # why the capital figures are missing ("" when computed)
    ratio_numerator: str = "own funds"  # "adjusted net capital" under cftc


@dataclass(frozen=True)
class StressRow:
    scenario: str
    shocks: str
    cover1_usd: str
    cover2_usd: str
    total_shortfall_usd: str
    insurance_fund_usd: str
    status: str


@dataclass(frozen=True)
class GroupShortfall:
    scenario: str
    group_id: str
    isolated_shortfall_usd: str
    cross_shortfall_usd: str
    shortfall_usd: str


@dataclass(frozen=True)
class CascadeRoundRow:
    scenario: str
    round: int
    price_moves: str
    liquidated_positions: int
    liquidated_notional_usd: str
    cumulative_notional_usd: str


@dataclass(frozen=True)
class VarSection:
    evaluated: bool
    reason: str
    n: int
    confidence: str
    k: int
    es_confidence: str
    w: int
    window: int
    window_start: str
    window_end: str
    var_usd: str
    es_usd: str
    own_funds: str
    threshold_usd: str
    share: str
    status: str
    exposure: tuple[tuple[str, str], ...]  # (asset, USD)
    method: str
    left_out: tuple[tuple[str, int], ...] = ()  # (asset, its own daily returns): not simulated


@dataclass(frozen=True)
class StressSection:
    cover: int
    cascade_impact: str
    rows: tuple[StressRow, ...]
    groups: tuple[GroupShortfall, ...]
    cascade: tuple[CascadeRoundRow, ...]
    cascade_notes: tuple[str, ...]
    chart: Chart | None
    var: VarSection
    unavailable: str = ""  # why the stress figures are missing ("" when computed)
    # scenarios under which no group has a shortfall: the group table has no row for them
    # (stress audit of 2026-12-07: they were left out without a word)
    no_shortfall: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExceptionRow:
    check_id: str
    status: str
    entity_type: str
    entity_id: str
    instrument_id: str
    asset: str
    metric: str
    value: str
    threshold: str
    message: str


@dataclass(frozen=True)
class LineageRow:
    file: str
    format: str
    rows: int
    sha256: str
    loaded_at: str
    source: str


@dataclass(frozen=True)
class ConcentrationSection:
    instruments: tuple[InstrumentConcentration, ...]
    oi_chart: Chart | None
    custodians: tuple[ShareRow, ...]
    custodian_chart: Chart | None
    hot_wallet: ShareRow | None
    collateral: tuple[ShareRow, ...]
    large_exposures: tuple[LargeExposureRow, ...]
    large_exposures_total: int
    oi_floor: str
    unavailable: str = ""  # which checks' figures are missing and why ("" when all computed)


@dataclass(frozen=True)
class Convention:
    topic: str
    text: str


@dataclass
class ReportContext:
    """Everything report.html.j2 renders (one object, typed)."""

    # cover
    firm_name: str
    lei: str
    as_of: str
    run_id: str
    status: str
    signer_subject: str
    development_key: bool
    signing_time: str
    tool_version: str
    config_source: str
    config_sha256: str
    reporting_currency: str
    checks_reused: bool
    previous_as_of: str  # "" when none
    # executive summary
    families: tuple[FamilyStatus, ...]
    key_figures: tuple[KeyFigure, ...]
    headline: str
    # sections
    checks: tuple[CheckRow, ...]
    segregation_totals: tuple[SegregationTotalRow, ...]
    segregation_assets: tuple[SegregationAsset, ...]
    segregation_unavailable: str  # why the statement is missing ("" when computed)
    target_configured: bool
    integrity: tuple[IntegrityRow, ...]
    integrity_total: int
    integrity_counts: tuple[tuple[str, str, int], ...]  # (check_id, status, exceptions)
    concentration: ConcentrationSection
    capital: CapitalSection
    stress: StressSection
    exceptions: tuple[ExceptionRow, ...]
    exceptions_total: int
    exceptions_by_check: tuple[tuple[str, int], ...]
    lineage: tuple[LineageRow, ...]
    earlier_days: int  # earlier stored days the run id covers
    earlier_span: str  # their first and last date ("" for none)
    conventions: tuple[Convention, ...]
    attachments: tuple[str, ...] = field(default_factory=tuple)
    shown_limits: dict[str, int] = field(default_factory=dict)
    # (check id, error) of the figures the report could not compute (ReportData.unavailable)
    unavailable: tuple[tuple[str, str], ...] = ()
