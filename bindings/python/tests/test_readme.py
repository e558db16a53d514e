"""The five-minute guide in bindings/python/README.md is examples/five_minutes.py, and it runs as written
(against the emulator); scripts/test-python.sh also type-checks it with mypy --strict."""

import re
import subprocess
import sys
from pathlib import Path

from conftest import PASSWORD, TOKEN, child_env, photo_fixtures, work_order

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXAMPLE = ROOT / "examples" / "five_minutes.py"


def guide() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no python block"
    return blocks[0]


def test_the_readme_guide_is_the_example_script():
    assert guide() == EXAMPLE.read_text(), "copy examples/five_minutes.py into the README's first python block"


def test_the_readme_guide_runs(emulator, tmp_path):
    emulator.create_user()
    emulator.create_orders(work_order("WO-1001"), work_order("WO-1002", clientStatus="Rush"))
    script = EXAMPLE.read_text()
    # Only the provider's address, the credentials and the camera's file differ from the guide.
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
        timeout=60,
        env=child_env(),
    )

    assert result.returncode == 0, result.stderr
    assert "FATAL" not in result.stderr
    print(result.stdout)
    lines = result.stdout.splitlines()
    assert lines[0] == "2 0 []"  # the Full Import's report
    assert lines[1] == "on screen: [('ACME::WO-1001', 'NEW'), ('ACME::WO-1002', 'NEW')]"
    assert "check-in certified: False ['the project has no coordinates: location not verifiable']" in lines
    assert "on screen: [('ACME::WO-1001', 'IN_PROCESS'), ('ACME::WO-1002', 'NEW')]" in lines
    assert "photo: PENDING_QA 640 480" in lines
    assert "waiting to upload: 2" in lines  # the check-in and the approved photo
    assert "ACME delivered 2 error None" in lines
    assert "waiting to upload: 0" in lines
    assert "RELAYED 1 originals 1 renditions 0" in lines  # the configured policy deleted the rendition
    assert lines[-1] == "ACME imported: created 2"  # the events, read after the client closed
    assert "INFO fieldsync_core::sync::engine downloaded work orders code=ACME" in result.stderr  # the logger
    for secret in (PASSWORD, TOKEN):
        assert secret not in result.stdout + result.stderr
