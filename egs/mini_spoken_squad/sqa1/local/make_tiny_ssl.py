#!/usr/bin/env python3
"""Write the randomly initialised tiny SSL checkpoint that a frontend config points at (CI, tests).

    local/make_tiny_ssl.py --config conf/tuning/ssl_tiny.yaml [--seed 1]

Reads ``frontend_conf`` of the config (``family``, ``arch``, ``arch_conf``, ``checkpoint``), builds
that torchaudio architecture with the frontend's own builder
(``speechbert.audio.frontends.ssl_arch.resolve_arch``), seeds it and saves its state dict
(``torch.save(model.state_dict())``, the torchaudio checkpoint form the ``ssl`` frontend reads) to
``checkpoint`` (relative paths: from the recipe directory). The weights are random: the features
mean nothing, but every stage of the recipe runs on them. Same seed, same weights.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

import torch
import yaml

from speechbert.audio.frontends.ssl_arch import resolve_arch


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="frontend config with frontend: ssl")
    p.add_argument("--seed", type=int, default=1, help="seed of the random weights")
    args = p.parse_args(argv)
    with open(args.config, encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    conf = config.get("frontend_conf") or {}
    if config.get("frontend") != "ssl" or not conf.get("checkpoint"):
        sys.exit(f"{args.config}: expected frontend: ssl with frontend_conf.checkpoint")
    arch = resolve_arch(conf.get("family", "wav2vec2"), conf.get("arch", ""), conf.get("arch_conf") or {})
    torch.manual_seed(args.seed)
    model = arch.build().eval()
    out = Path(conf["checkpoint"])
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()  # saved in memory: the archive's record names do not depend on a file name
    torch.save(model.state_dict(), buf)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, out)
    print(f"{out}: random {arch.describe()}, seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
