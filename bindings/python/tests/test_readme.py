"""The five-minute guide in bindings/python/README.md runs as written (against the emulator)."""

import re
import subprocess
import sys
from pathlib import Path

from conftest import PASSWORD, TOKEN, child_env, photo_fixtures, work_order

README = Path(__file__).resolve().parents[1] / "README.md"


def guide() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no python block"
    return blocks[0]


def test_the_readme_guide_runs(emulator, tmp_path):
    emulator.create_user()
    emulator.create_orders(work_order("WO-1001"), work_order("WO-1002", clientStatus="Rush"))
    script = guide()
    # Only the provider's address and the credentials differ from the README.
    for placeholder, value in [
        ("https://provider.example.com/api/v2", emulator.base_url),
        ('"the password"', repr(PASSWORD)),
        ('"the API token"', repr(TOKEN)),
        ('"camera/IMG_0001.jpg"', repr(str(photo_fixtures() / "gps" / "DSCN0010.jpg"))),
    ]:
        assert placeholder in script
        script = script.replace(placeholder, value)

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        env=child_env(),
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "2 0 0 0 0 []" in lines  # the Full Import's report
    assert "ACME::WO-1001 001 Elm St Columbus Open False" in lines  # the filtered page
    assert "ACME::WO-1001 STATUS QUEUED" in lines  # the outbox
    assert "check-in certified: False ['the project has no coordinates: location not verifiable']" in lines
    assert "photo: PENDING_QA 640 480" in lines
    assert "ACME delivered 3 retrying 0 None" in lines  # the status change, the check-in, the photo
    assert "photo RELAYED" in lines
    assert "ACME imported: created 2 updated 0 deleted 0" in lines  # the events
    assert lines[-1] == "ACME IDLE None"  # (a burst of statuses may be coalesced: only the last is certain)
    assert "INFO fieldsync_core::sync::engine downloaded work orders code=ACME" in result.stderr  # the logger
    for secret in (PASSWORD, TOKEN):
        assert secret not in result.stdout + result.stderr
