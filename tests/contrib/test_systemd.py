"""contrib/aggregator.service: a unit systemd accepts, that runs the daemon with
options it takes, reloads it by SIGHUP and keeps its state in the state directory."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.cli import _parser
from tests.conftest import REPO

UNIT = REPO / "contrib" / "aggregator.service"
AGGREGATE = str(Path(sys.executable).parent / "aggregate")


def _service() -> configparser.SectionProxy:
    # systemd's syntax is INI-like; keys are case-sensitive, none repeats here.
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    assert set(parser.sections()) == {"Unit", "Service", "Install"}
    return parser["Service"]


def test_the_unit_runs_the_daemon_and_reloads_it_by_sighup() -> None:
    service = _service()
    assert service["Type"] == "exec"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    state = service["StateDirectory"]
    assert service["WorkingDirectory"] == f"/var/lib/{state}"
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/bin/aggregate")
    # Options the daemon takes (a typo would make it exit 2 at every start),
    # and its state and output in the state directory, which is writable.
    args = _parser().parse_args(command[1:])
    assert args.command is None and not args.once
    assert str(args.db).startswith(f"/var/lib/{state}/")
    assert str(args.out).startswith(f"/var/lib/{state}/")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_accepts_it(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: this environment's command stands in.
    unit = tmp_path / "aggregator.service"
    unit.write_text(UNIT.read_text().replace("/opt/aggregator/bin/aggregate", AGGREGATE))
    broken = tmp_path / "broken" / "aggregator.service"
    broken.parent.mkdir()
    broken.write_text(unit.read_text().replace("Type=exec", "Type=exe"))

    good = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    bad = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60
    )

    assert good.returncode == 0 and good.stdout + good.stderr == ""
    # What a mistake looks like (systemd still exits 0 for it: the output is the verdict).
    assert "Failed to parse service type" in bad.stdout + bad.stderr
