"""The closed sets of values the report tables store, defined once; `bot/` imports them from here.

StrEnums: a member is the very string stored in the database (and in chat states), so rows written before these
types existed read back as equal members.
"""
from __future__ import annotations

from enum import StrEnum


class ReportStatus(StrEnum):
    """Where a report stands with the task force (`report.status`; labels in content/report_options.yml)."""

    NEW = "baru"  # filed, not yet acknowledged by staff
    RECEIVED = "diterima"
    IN_PROGRESS = "diproses"
    DONE = "selesai"
    NOT_TRAFFICKING = "bukan_tppo"


# The statuses staff move a report to (the buttons under a report in the group, `reports set-status`).
STAFF_STATUSES = (ReportStatus.RECEIVED, ReportStatus.IN_PROGRESS, ReportStatus.DONE, ReportStatus.NOT_TRAFFICKING)
OPEN_STATUSES = (ReportStatus.NEW, ReportStatus.RECEIVED, ReportStatus.IN_PROGRESS)
CLOSED_STATUSES = (ReportStatus.DONE, ReportStatus.NOT_TRAFFICKING)  # purged after the retention period


class DeliveryKind(StrEnum):
    """What one outbox row sends (`delivery.kind`)."""

    REPORT = "report"  # the report itself, with its status buttons, to the task force
    PART = "part"  # the rest of a report too long for one message
    EVIDENCE = "evidence"  # a photo, document or voice note, as a reply to the report
    NOTICE = "notice"  # a status change, to the reporter
    REMINDER = "reminder"  # the report again, while nobody acknowledged it


# What goes to the task-force chat (everything but the reporter's notices).
TASKFORCE_KINDS = (DeliveryKind.REPORT, DeliveryKind.PART, DeliveryKind.EVIDENCE, DeliveryKind.REMINDER)


class ContactMode(StrEnum):
    """How the reporter may be reached (`report.contact_mode`)."""

    PHONE = "phone"  # by the number they gave, and through the bot
    BOT = "bot"  # status changes through the bot only
    ANONYMOUS = "anonymous"  # not at all: nothing links the report to the chat


class LocationKind(StrEnum):
    """Where the victim is (`report.location_kind`); `report.location` then holds a regency or a country code."""

    NTT = "ntt"
    INDONESIA = "indonesia"  # elsewhere in Indonesia (the place is typed, so kept encrypted)
    ABROAD = "abroad"


class CountedEvent(StrEnum):
    """What a `status_lookup` row counts, per chat (a keyed hash) in a sliding window."""

    FAILED_LOOKUP = "status"  # a /status code that matched no report: guessing codes is slowed down
    REPORT_FILED = "report"  # REPORTS_PER_DAY
    URGENT_PRIORITY = "urgent"  # an urgent report that jumped the delivery queue (once a day per reporter)


class InboxStatus(StrEnum):
    """Where a stored Telegram update is (db/inbox.py)."""

    PENDING = "pending"  # stored and acknowledged, not handled yet
    DONE = "done"  # handled; kept without content for a day to recognise a redelivery
