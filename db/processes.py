"""Naming the processes that hold claims and leases, and telling when one of this host's has exited.

A claim or lease names its holder `host:pid:random` (pids are reused; the random part tells a restarted process
from the one before). A holder on this host whose process is gone holds nothing: its claims can be freed at once
instead of waiting for them to expire.
"""
from __future__ import annotations

import os
import secrets
import socket


def process_name() -> str:
    """This process, as named in claims, leases and the logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def host_prefix() -> str:
    """The start every holder name of this host has."""
    return f"{socket.gethostname()}:"


def gone(holder: str) -> bool:
    """Whether the process named `holder` (by process_name) ran on this host and has exited."""
    host, _, rest = holder.partition(":")
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(rest.partition(":")[0]), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError):  # not our naming, or another user's live process
        return False
    return False
