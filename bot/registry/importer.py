"""Read an official agency list (CSV or XLSX), validate every row, and hand clean rows to the repository.

All or nothing: a file with any bad row changes nothing and every problem is reported by row and column.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from bot.registry.names import licence_key, normalise_name
from db.agencies import AgencyRow, BranchRow

STATUSES = ("aktif", "skorsing", "dicabut", "tidak_aktif")
Parsed = TypeVar("Parsed")  # what a cell parser makes of a cell
# Column name -> accepted header spellings (compared lower-case, spaces and dashes as underscores).
COLUMNS = {
    "nama": ("nama", "nama_perusahaan", "nama_p3mi", "perusahaan", "p3mi", "name", "company"),
    "nomor_izin": ("nomor_izin", "no_izin", "nomor_sip3mi", "no_sip3mi", "sip3mi", "izin", "licence_number",
                   "license_number"),
    "tanggal_izin": ("tanggal_izin", "tgl_izin", "tanggal_sip3mi", "licence_date"),
    "status": ("status", "status_izin", "keterangan_status"),
    "dasar_status": ("dasar_status", "dasar", "sk", "dasar_hukum", "keputusan", "status_basis"),
    "tanggal_status": ("tanggal_status", "tgl_status", "tanggal_sk", "status_date"),
    "alamat": ("alamat", "alamat_kantor", "address"),
    "kota": ("kota", "kabupaten_kota", "kab_kota", "city"),
    "provinsi": ("provinsi", "propinsi", "province"),
    "telepon": ("telepon", "telp", "no_telp", "nomor_telepon", "phone"),
    "kantor_cabang": ("kantor_cabang", "cabang", "branches"),
    "alias": ("alias", "nama_lain", "merek", "brand", "aliases"),
    "sumber": ("sumber", "source"),
}
REQUIRED = ("nama", "status")
STATUS_WORDS = {
    "aktif": "aktif", "berlaku": "aktif", "active": "aktif", "aktif kembali": "aktif",
    "skorsing": "skorsing", "diskors": "skorsing", "penghentian sementara": "skorsing",
    "dihentikan sementara": "skorsing", "penghentian sementara sebagian": "skorsing", "suspended": "skorsing",
    "dicabut": "dicabut", "cabut": "dicabut", "dicabut izinnya": "dicabut", "izin dicabut": "dicabut",
    "pencabutan izin": "dicabut", "revoked": "dicabut",
    "tidak aktif": "tidak_aktif", "tidak_aktif": "tidak_aktif", "nonaktif": "tidak_aktif", "non aktif": "tidak_aktif",
    "inactive": "tidak_aktif", "habis masa berlaku": "tidak_aktif",
}
MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "maret": 3, "mar": 3, "april": 4, "apr": 4,
    "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "agustus": 8, "agu": 8, "agt": 8, "ags": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11, "nop": 11,
    "desember": 12, "des": 12,
}
MAX_TEXT = 500


@dataclass(frozen=True)
class Problem:
    row: int  # 1-based line in the file, the header being line 1
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class ImportFileError(ValueError):
    """The file cannot be read as a table (format, encoding, missing columns)."""


def parse_date(value: str) -> date:
    value = value.strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            pass
    match = re.fullmatch(r"(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})", value)
    if match and match.group(2).lower() in MONTHS:
        return date(int(match.group(3)), MONTHS[match.group(2).lower()], int(match.group(1)))
    raise ValueError(f"{value!r} is not a date (use 2026-01-29, 29-01-2026, 29/01/2026 or 29 Januari 2026)")


def parse_status(value: str) -> str:
    key = re.sub(r"[\s_-]+", " ", value.strip().lower())
    if key in STATUS_WORDS:
        return STATUS_WORDS[key]
    raise ValueError(f"{value!r} is not a known status ({', '.join(STATUSES)}, or words like "
                     "'penghentian sementara', 'dicabut izinnya')")


def parse_branches(value: str) -> list[BranchRow]:
    """'Kota Kupang, Nusa Tenggara Timur; Kab. Belu, NTT' -> branches."""
    branches = []
    for part in value.split(";"):
        if not part.strip():
            continue
        pieces = [p.strip() for p in part.split(",", 1)]
        if not pieces[0]:
            raise ValueError(f"branch {part.strip()!r} has no regency; use 'Regency, Province'")
        branches.append(BranchRow(regency=pieces[0], province=pieces[1] if len(pieces) > 1 else None))
    return branches


def read_table(path: Path) -> list[list[str]]:
    """All rows of a CSV (comma or semicolon, UTF-8) or XLSX file as strings, header first."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(path, read_only=True, data_only=True).active
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
            raise ImportFileError(f"{path}: not a readable XLSX file ({exc.__class__.__name__})") from None
        return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    if path.suffix.lower() != ".csv":
        raise ImportFileError(f"{path}: use a .csv or .xlsx file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
    return [row for row in csv.reader(text.splitlines(), dialect)]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header_map(header: list[str]) -> dict[str, int]:
    spelled = {re.sub(r"[\s\-.]+", "_", h.strip().lower()): i for i, h in enumerate(header)}
    mapping = {}
    for column, variants in COLUMNS.items():
        for variant in variants:
            if variant in spelled:
                mapping[column] = spelled[variant]
                break
    missing = [c for c in REQUIRED if c not in mapping]
    if missing:
        raise ImportFileError(f"missing column(s): {', '.join(missing)}; the header row must name them")
    return mapping


def parse_rows(table: list[list[str]]) -> tuple[list[AgencyRow], list[Problem]]:
    """Validate every row; return the clean rows and every problem found."""
    if not table:
        raise ImportFileError("the file is empty")
    columns = _header_map(table[0])
    rows: list[AgencyRow] = []
    problems: list[Problem] = []
    names_seen: dict[str, int] = {}
    licences_seen: dict[str, int] = {}
    for line, raw in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue
        row, row_problems = _parse_row(line, {c: (raw[i].strip() if i < len(raw) else "") for c, i in columns.items()})
        if row.normalized_name in names_seen:
            row_problems.append(Problem(line, "nama", f"same company as row {names_seen[row.normalized_name]}"))
        if row.licence_key in licences_seen:
            first_line = licences_seen[row.licence_key]
            row_problems.append(Problem(line, "nomor_izin", f"same licence number as row {first_line}"))
        if row_problems:
            problems.extend(row_problems)
            continue
        names_seen[row.normalized_name] = line
        if row.licence_key:
            licences_seen[row.licence_key] = line
        rows.append(row)
    return rows, problems


def _parse_row(line: int, cells: dict[str, str]) -> tuple[AgencyRow, list[Problem]]:
    problems: list[Problem] = []

    def parsed(column: str, parse: Callable[[str], Parsed]) -> Parsed | None:
        value = cells.get(column, "")
        try:
            return parse(value) if value else None
        except ValueError as exc:
            problems.append(Problem(line, column, str(exc)))
            return None

    for column, value in cells.items():
        if len(value) > MAX_TEXT:
            problems.append(Problem(line, column, f"longer than {MAX_TEXT} characters"))
    name = cells.get("nama", "")
    normalized = normalise_name(name)
    if not normalized:
        problems.append(Problem(line, "nama", "empty or no letters"))
    if not cells.get("status"):
        problems.append(Problem(line, "status", "empty"))
    number = cells.get("nomor_izin") or None
    key = licence_key(number) if number else None
    if number and not key:
        problems.append(Problem(line, "nomor_izin", f"{number!r} has no letters or digits"))
    row = AgencyRow(
        name=name, normalized_name=normalized, status=parsed("status", parse_status) or "",
        licence_number=number, licence_key=key or None,
        licence_date=parsed("tanggal_izin", parse_date), status_basis=cells.get("dasar_status") or None,
        status_date=parsed("tanggal_status", parse_date), address=cells.get("alamat") or None,
        city=cells.get("kota") or None, province=cells.get("provinsi") or None, phone=cells.get("telepon") or None,
        branches=parsed("kantor_cabang", parse_branches) or [], source=cells.get("sumber") or None,
        aliases=[a.strip() for a in cells.get("alias", "").split(";") if a.strip()],
    )
    return row, problems
