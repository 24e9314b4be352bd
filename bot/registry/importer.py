"""Read an official agency list (CSV or XLSX), validate every row, and hand clean rows to the repository.

All or nothing: a file with any bad row changes nothing and every problem is reported by row and column.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from db.agencies import AgencyRow, BranchRow

from bot.registry.names import licence_key, normalise_name

STATUSES = ("aktif", "skorsing", "dicabut", "tidak_aktif")
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


def _cell(value) -> str:
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
        get = lambda column: (raw[columns[column]].strip() if column in columns and columns[column] < len(raw) else "")  # noqa: E731
        row_problems: list[Problem] = []

        def check(column, parse, value):
            try:
                return parse(value) if value else None
            except ValueError as exc:
                row_problems.append(Problem(line, column, str(exc)))
                return None

        for column in columns:
            if len(get(column)) > MAX_TEXT:
                row_problems.append(Problem(line, column, f"longer than {MAX_TEXT} characters"))
        name = get("nama")
        normalized = normalise_name(name)
        if not normalized:
            row_problems.append(Problem(line, "nama", "empty or no letters"))
        elif normalized in names_seen:
            row_problems.append(Problem(line, "nama", f"same company as row {names_seen[normalized]}"))
        if not get("status"):
            row_problems.append(Problem(line, "status", "empty"))
        status = check("status", parse_status, get("status"))
        number = get("nomor_izin") or None
        key = licence_key(number) if number else None
        if number and not key:
            row_problems.append(Problem(line, "nomor_izin", f"{number!r} has no letters or digits"))
        elif key and key in licences_seen:
            row_problems.append(Problem(line, "nomor_izin", f"same licence number as row {licences_seen[key]}"))
        row = AgencyRow(
            name=name, normalized_name=normalized, status=status or "", licence_number=number, licence_key=key,
            licence_date=check("tanggal_izin", parse_date, get("tanggal_izin")),
            status_basis=get("dasar_status") or None,
            status_date=check("tanggal_status", parse_date, get("tanggal_status")),
            address=get("alamat") or None, city=get("kota") or None, province=get("provinsi") or None,
            phone=get("telepon") or None, branches=check("kantor_cabang", parse_branches, get("kantor_cabang")) or [],
            source=get("sumber") or None,
        )
        if row_problems:
            problems.extend(row_problems)
            continue
        names_seen[normalized] = line
        if key:
            licences_seen[key] = line
        rows.append(row)
    return rows, problems
