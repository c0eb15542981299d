"""The magnitude fuzzing script's mutation (the script itself runs outside `make test`)."""

from __future__ import annotations

from pathlib import Path

from tests.fuzz_magnitudes import COLUMNS, mutate


def _write(day: Path, text: str) -> Path:
    day.mkdir()
    path = day / "balances.csv"
    path.write_text(text)
    return path


def test_a_value_keeps_each_cells_sign_and_a_factor_multiplies(tmp_path: Path) -> None:
    text = "account_id,asset,balance\nA,USDT,-2.5\nB,USDT,\nC,USDT,4\n"
    path = _write(tmp_path / "one", text)
    assert mutate(tmp_path / "one", "balances", "balance", "1e19", "one")
    assert path.read_text().splitlines()[1:] == [
        "A,USDT,-10000000000000000000",
        "B,USDT,",
        "C,USDT,4",
    ]
    path = _write(tmp_path / "all", text)
    assert mutate(tmp_path / "all", "balances", "balance", "x1e-12", "all")
    assert path.read_text().splitlines()[1:] == [
        "A,USDT,-0.0000000000025",
        "B,USDT,",
        "C,USDT,0.000000000004",
    ]
    path = _write(tmp_path / "empty", "account_id,asset,balance\nB,USDT,\n")
    assert not mutate(tmp_path / "empty", "balances", "balance", "1e19", "all")


def test_every_column_it_fuzzes_is_a_numeric_column_of_the_contract() -> None:
    from reports.spec import FILES

    for file, columns in COLUMNS.items():
        spec = {c.name: c for c in FILES[file].columns}
        for column in columns:
            assert spec[column].type in ("decimal", "integer"), (file, column)
