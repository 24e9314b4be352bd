"""Managed mode: start the Rasa NLU server on 127.0.0.1, restart it when it dies, stop it on exit."""
from __future__ import annotations

import logging
import secrets
import subprocess
import threading
import time
from pathlib import Path

from bot.nlu.rasa_client import RasaClient
from bot.nlu.training import rasa_environment, rasa_executable

log = logging.getLogger(__name__)
RESTART_BACKOFF_SECONDS = (2, 5, 15, 30, 60)
HEALTHY_AFTER_SECONDS = 120  # a server that ran this long starts the backoff afresh when it dies
MANAGED_TOKEN_FILE = "rasa-auth-token"  # in BOT_VAR_DIR: the managed server's token, reused by later commands


def managed_auth_token(var_dir: Path, configured: str) -> str:
    """RASA_AUTH_TOKEN when set, else a random token kept in var/ so later commands can reuse the server."""
    if configured:
        return configured
    path = var_dir / MANAGED_TOKEN_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


class ManagedRasa:
    """Supervises one `rasa run` process. The bot serves with the local classifier until it is ready."""

    def __init__(self, model: Path, port: int, auth_token: str, var_dir: Path):
        self.url = f"http://127.0.0.1:{port}"
        self._model = model
        self._port = port
        self._auth_token = auth_token
        self._var_dir = var_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._supervisor = threading.Thread(target=self._supervise, name="rasa-supervisor", daemon=True)
        self._supervisor.start()

    def wait_ready(self, timeout: float) -> bool:
        client = RasaClient(self.url, self._auth_token, timeout=2.0)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and not self._stopping.is_set():
                if client.is_ready():
                    return True
                time.sleep(0.5)
            return False
        finally:
            client.close()

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)  # first, so it cannot start a new server behind our back
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _spawn(self) -> None:
        logs = self._var_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        command = [
            str(rasa_executable()), "run", "--enable-api",
            "-i", "127.0.0.1", "-p", str(self._port),
            "--auth-token", self._auth_token,
            "-m", str(self._model),
        ]
        log.info("starting the Rasa NLU server on %s with %s", self.url, self._model.name)
        self._started_at = time.monotonic()
        with (logs / "rasa.log").open("ab") as out:
            self._process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=rasa_environment(self._var_dir), cwd=self._var_dir,
            )

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping.wait(1.0):
            process = self._process
            if process is None or process.poll() is None:
                continue
            if time.monotonic() - self._started_at > HEALTHY_AFTER_SECONDS:
                failures = 0
            delay = RESTART_BACKOFF_SECONDS[min(failures, len(RESTART_BACKOFF_SECONDS) - 1)]
            log.error("the Rasa NLU server exited with code %s; restarting in %ss", process.returncode, delay)
            failures += 1
            if self._stopping.wait(delay):
                return
            self._spawn()
