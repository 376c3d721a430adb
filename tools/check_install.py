#!/usr/bin/env python3
"""Report which of the toolkit's dependencies are present, with a hint for each missing one.

Run with the project venv: ``tools/venv/bin/python tools/check_install.py``. Exits 1 if a
required dependency is missing; optional ones (GPU, cluster tools) only get a hint.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys

OK, MISSING = "[x]", "[ ]"


def _module(name: str) -> tuple[bool, str]:
    try:
        mod = importlib.import_module(name)
    except Exception as e:  # noqa: BLE001 - any import failure means "missing" here
        return False, f"{type(e).__name__}: {e}"
    return True, str(getattr(mod, "__version__", ""))


def check() -> int:
    """Print the report; return the number of missing required items."""
    missing = 0
    print(f"python={sys.version.split()[0]} ({sys.executable})")
    required = [
        ("torch", "make -C tools (pins torch==2.14.1)"),
        ("torchaudio", "make -C tools (pins torchaudio==2.11.0, which needs the CUDA build of torch)"),
        ("kaldiio", "pip install kaldiio"),
        ("soundfile", "pip install soundfile"),
        ("sentencepiece", "pip install sentencepiece"),
        ("configargparse", "pip install configargparse"),
        ("humanfriendly", "pip install humanfriendly"),
        ("safetensors", "pip install safetensors"),
        ("yaml", "pip install PyYAML"),
        ("espeakng_loader", "pip install espeakng-loader (eSpeak NG library + voices)"),
        ("pocketsphinx", "pip install pocketsphinx (only for --asr pocketsphinx)"),
        ("speechbert", "pip install -e . (make -C tools does this)"),
    ]
    for name, hint in required:
        ok, info = _module(name)
        print(f"{OK if ok else MISSING} {name}{'=' + info if ok and info else ''}")
        if not ok:
            print(f"      -> {hint} ({info})")
            missing += 1

    try:
        import torchaudio.functional as F

        assert callable(F.forced_align)
        print(f"{OK} torchaudio.functional.forced_align")
    except Exception as e:  # noqa: BLE001
        print(f"{MISSING} torchaudio.functional.forced_align -> torchaudio with its extension ({e})")
        missing += 1

    try:
        import ctypes

        import espeakng_loader

        ctypes.CDLL(espeakng_loader.get_library_path())
        print(f"{OK} eSpeak NG library ({espeakng_loader.get_library_path()})")
    except Exception as e:  # noqa: BLE001
        print(f"{MISSING} eSpeak NG library -> pip install espeakng-loader ({e})")
        missing += 1

    try:
        import torch

        n = torch.cuda.device_count()
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(n))
        print(f"{OK if n else MISSING} CUDA devices: {n}{' (' + names + ')' if n else ' (optional: training runs on CPU)'}")
    except Exception as e:  # noqa: BLE001
        print(f"{MISSING} CUDA devices: unknown ({e})")

    for exe, hint in [("bats", "tools/installers/install_bats.sh (tests only)"),
                      ("shellcheck", "tools/installers/install_shellcheck.sh (tests only)"),
                      ("sbatch", "tools/installers/install_slurm.sh (cmd_backend=slurm)"),
                      ("qsub", "Grid Engine client (cmd_backend=sge)")]:
        path = shutil.which(exe)
        version = ""
        if path and exe in ("bats", "shellcheck", "sbatch"):
            try:
                out = subprocess.run([exe, "--version"], capture_output=True, text=True,
                                     timeout=10).stdout.strip().splitlines()
                version = next((ln for ln in out if "version" in ln.lower() or ln.startswith(("Bats", "slurm"))), out[0])
            except (OSError, subprocess.SubprocessError, IndexError):
                version = ""
        print(f"{OK if path else MISSING} {exe}{' (' + version + ')' if version else ''}")
        if not path:
            print(f"      -> optional: {hint}")
    return missing


if __name__ == "__main__":
    sys.exit(1 if check() else 0)
