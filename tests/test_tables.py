"""CSV and XLSX exports never carry live formulas, and our readers take the guard off again."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from openpyxl import load_workbook

from caseframe.interop.tables import neutralise_cell, restore_cell, write_csv, write_xlsx

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_starts_get_a_leading_quote_and_come_back(text):
    assert neutralise_cell(text) == "'" + text
    assert restore_cell(neutralise_cell(text)) == text


@pytest.mark.parametrize("text", ["plain", "'quoted already", "", "a=b"])
def test_other_text_is_left_alone(text):
    assert neutralise_cell(text) == text
    assert restore_cell(text) == text


def test_numbers_are_not_touched():
    assert neutralise_cell(-3) == -3


def test_csv_and_xlsx_cells_are_text_not_formulas(tmp_path):
    frame = pd.DataFrame({"memo": DANGEROUS, "n": range(len(DANGEROUS))})
    out_csv = write_csv(frame, tmp_path / "c.csv")
    with open(out_csv, newline="", encoding="utf-8") as fh:
        memos = [row["memo"] for row in csv.DictReader(fh)]
    assert all(m.startswith("'") for m in memos)
    assert [restore_cell(m) for m in memos] == DANGEROUS

    out_xlsx = write_xlsx({"codings": frame}, tmp_path / "c.xlsx")
    ws = load_workbook(out_xlsx)["codings"]
    cells = [ws.cell(row=i + 2, column=1) for i in range(len(DANGEROUS))]
    assert all(c.data_type == "s" for c in cells)
    assert [restore_cell(c.value) for c in cells] == DANGEROUS
