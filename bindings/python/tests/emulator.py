"""The provider emulator (`fieldsync provider serve`) as a subprocess, and a client of its admin API.

Standard library only (urllib), so both the pytest suite and `bench.py` use it. The admin API is
documented in provider/README.md (JSON, camelCase).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FIELDSYNC_BIN = os.environ.get("FIELDSYNC_BIN", str(REPO / "target" / "debug" / "fieldsync"))

# The login the tests and the benchmark use; the password is also what the "no secrets anywhere" checks
# look for.
USER = "vendor1"
PASSWORD = "s3cret-Passw0rd"
TOKEN = "tok-9f8e7d6c5b4a"

STARTUP_SECS = 10.0


class AdminError(Exception):
    """An admin API call answered with an HTTP error."""

    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Emulator:
    """A running `fieldsync provider serve --addr 127.0.0.1:0` (temporary database) and its admin API."""

    def __init__(self, workdir: Path, binary: str = FIELDSYNC_BIN):
        workdir.mkdir(parents=True, exist_ok=True)
        # stdout and stderr go to files, never to pipes: an unread pipe that fills up would block the server.
        self._stdout_path = workdir / "emulator.out"
        self._stderr_path = workdir / "emulator.err"
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [binary, "provider", "serve", "--addr", "127.0.0.1:0"],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=workdir,
            )
        try:
            self.base_url, self.admin_url = self._wait_for_urls()
        except BaseException:
            self.stop()
            raise

    def _wait_for_urls(self) -> tuple[str, str]:
        # It prints `... wire base URL http://127.0.0.1:PORT/api/v2` and `... admin API http://.../admin`.
        deadline = time.monotonic() + STARTUP_SECS
        while time.monotonic() < deadline:
            text = self._stdout_path.read_text(errors="replace")
            wire = re.search(r"wire base URL (http://\S+)", text)
            admin = re.search(r"admin API (http://\S+)", text)
            if wire and admin:
                return wire.group(1), admin.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError(
            f"the emulator did not start (exit status {self.process.poll()}):\n"
            f"{self._stdout_path.read_text(errors='replace')}\n{self._stderr_path.read_text(errors='replace')}"
        )

    def stop(self) -> None:
        """SIGTERM (a graceful stop that deletes the temporary database), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- admin API ---

    def admin(self, method: str, path: str, body=None, query: dict | None = None, timeout: float = 60):
        url = self.admin_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise AdminError(err.code, err.read().decode(errors="replace")) from None
        return json.loads(raw) if raw.strip() else None

    def create_user(self, username: str = USER, password: str = PASSWORD, token: str = TOKEN):
        return self.admin("POST", "/users", {"username": username, "password": password, "token": token})

    def create_orders(self, *orders: dict):
        return self.admin("POST", "/work-orders", list(orders))

    def patch_order(self, number: str, patch: dict):
        return self.admin("PATCH", f"/work-orders/{number}", patch)

    def assign(self, number: str, username: str = USER):
        return self.admin("POST", f"/work-orders/{number}/assign", {"username": username})

    def unassign(self, number: str):
        return self.admin("POST", f"/work-orders/{number}/unassign")

    def delete_order(self, number: str):
        return self.admin("DELETE", f"/work-orders/{number}")

    def bulk(self, count: int, username: str = USER, seed: int = 7):
        """Generates `count` realistic orders assigned to `username` (BLK-0000001...)."""
        return self.admin("POST", "/bulk", {"username": username, "count": count, "seed": seed}, timeout=600)

    def set_options(self, number: str, options: dict):
        """Replaces an order's `options` (e.g. `{"check_in_required": True}`)."""
        return self.admin("PUT", f"/work-orders/{number}/options", options)

    def items(self, file_type: str | None = None, number: str | None = None) -> list[dict]:
        """What arrived through `uploadPictures` (pictures and check-ins), in the order it first arrived."""
        query = {}
        if file_type is not None:
            query["fileType"] = file_type
        if number is not None:
            query["workOrderNumber"] = number
        return self.admin("GET", "/items", query=query or None)

    def item_file(self, uuid: str) -> bytes:
        """The bytes received for a picture."""
        with urllib.request.urlopen(f"{self.admin_url}/items/{urllib.parse.quote(uuid)}/file", timeout=60) as response:
            return response.read()

    def add_fault(self, rule: dict):
        return self.admin("POST", "/faults", rule)

    def clear_faults(self):
        return self.admin("DELETE", "/faults")

    def health(self):
        return self.admin("GET", "/health")


def work_order(number: str, **fields) -> dict:
    """A wire work order that a client accepts (address, city, state, ZIP and one service), assigned to USER."""
    order = {
        "workOrderNumber": number,
        "address1": f"{number[-3:]} Elm St",
        "city": "Columbus",
        "state": "OH",
        "zip": "43215",
        "clientStatus": "Open",
        "clientDueDate": "2030-01-15",
        "assignedTo": USER,
        "services": [
            {"serviceName": "Grass Cut", "instructions": "Front and back", "options": {"height_in": 3}},
            {"serviceName": "Debris Removal", "instructions": "", "options": {}},
        ],
        "options": {"gate_code": "4411"},
    }
    order.update(fields)
    return order
