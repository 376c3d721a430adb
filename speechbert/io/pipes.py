"""Kaldi ``cmd |`` table entries (wav.scp, feats.scp): run the command, name it when it fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

from speechbert.errors import DataError


def run_pipe(command: str, *, where: str | Path | None, key: str | None) -> bytes:
    """Run the command of a ``<command> |`` entry with bash (pipefail) and return its stdout.

    Raises:
        DataError: naming ``where`` (the table), ``key`` (its entry) and the command, with its exit
            status and last line of stderr, when the command is empty or fails.
    """
    if not command:
        raise DataError("empty command before '|'", where, key=key)
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {err[-1]}" if err else ""
        raise DataError(f"command '{command} |' failed with exit status {proc.returncode}{detail}",
                        where, key=key)
    return proc.stdout
