"""Running `policybot` as a user does: the console script in a subprocess, or bot.cli.main in-process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.cli import main

OUR_ENV = ("POLICYBOT_", "SLACK_", "SMTP_")


def policybot_command() -> list[str]:
    script = Path(sys.executable).parent / "policybot"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bot.cli"]


def run_policybot(*args: str, env: dict[str, str], stdin: str | bytes | None = None, cwd: Path,
                  timeout: float = 600) -> subprocess.CompletedProcess:
    """The console script with only our variables from `env`; bytes in give bytes out.
    `timeout` only bounds a hang (the machine may be shared), it is no performance assertion."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OUR_ENV)}
    clean.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"}, **env)
    text = {} if isinstance(stdin, bytes) else {"text": True, "encoding": "utf-8"}
    return subprocess.run(policybot_command() + list(args), input=stdin, capture_output=True, env=clean, cwd=cwd,
                          timeout=timeout, **text)


def assert_one_clear_line(stderr: str, *needles: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("policybot: ")
    for needle in needles:
        assert needle in lines[0]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """bot.cli.main in this process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
