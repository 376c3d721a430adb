"""The scaffolding of every command-line tool (the entry points in ``speechbert.bin`` and the tasks' parsers).

One parser style (configargparse, YAML ``--config``, underscore option names that also accept
dashes), one log format, ``--verbose``/``--seed``, and one way to turn a failure into a readable
line and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import random
import re
import shlex
import sys
import traceback
from typing import Any, Callable, NoReturn, Sequence

import configargparse
import yaml

from speechbert.errors import ConfigError, SpeechbertError

LOG_FORMAT = "%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"


class ArgumentParser(configargparse.ArgumentParser):
    """configargparse parser whose ``--foo_bar`` options also answer to ``--foo-bar``.

    YAML config keys are the underscore names; a key that names no option is an error that
    names the key and the file.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("config_file_parser_class", YAMLConfigFileParser)
        super().__init__(*args, **kwargs)
        # options whose YAML value is a mapping (a registry's ``<kind>_conf``; speechbert.registry)
        self.mapping_options: set[str] = set()

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:  # type: ignore[override]
        extra = [a.replace("_", "-") for a in args
                 if isinstance(a, str) and a.startswith("--") and "_" in a]
        return super().add_argument(*args, *[e for e in extra if e not in args], **kwargs)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None, **kwargs: Any) -> argparse.Namespace:
        argv = list(sys.argv[1:] if args is None else args)
        self._argv = argv
        self._config_keys: dict[str, str] = {}
        self._check_config_keys(argv)
        return super().parse_args(args=argv, namespace=namespace, **kwargs)

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        """argparse's error, naming the YAML file when the bad value came from one."""
        super().error(self.config_note(message))

    def config_note(self, message: str) -> str:
        """``message`` plus "(the value of 'x' in config file f)" when it is about an option whose
        value came from a YAML config (and not from the command line); else ``message``."""
        keys = getattr(self, "_config_keys", None)
        if not keys:
            return message
        m = re.match(r"argument (--[\w-]+)", message)
        if m:
            names = [m.group(1)[2:].replace("-", "_")]
        else:  # configargparse's own messages and the tools' ConfigErrors name the key
            names = [k for k in keys if re.search(rf"(?<![\w/.-])(--)?{re.escape(k)}(?![\w/.-])", message)]
        for name in names:
            given = any(a.split("=", 1)[0] in (f"--{name}", f"--{name.replace('_', '-')}")
                        for a in getattr(self, "_argv", []))
            if name in keys and not given:
                return f"{message} (the value of {name!r} in config file {keys[name]})"
        return message

    def _check_config_keys(self, argv: list[str]) -> None:
        known = {s[2:] for action in self._actions for s in action.option_strings if s.startswith("--")}
        for path in _config_paths(argv):
            try:
                with open(path, "rb") as f:
                    raw = f.read()
                data = yaml.safe_load(raw.decode("utf-8")) or {}
            except OSError as e:
                raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
            except UnicodeDecodeError as e:
                line = raw[:e.start].count(b"\n") + 1
                raise ConfigError(f"config file {path}:{line}: not valid UTF-8 "
                                  f"({e.reason} at byte {e.start})") from None
            except yaml.YAMLError as e:
                raise ConfigError(f"config file {path} is not valid YAML: {e}") from None
            if not isinstance(data, dict):
                raise ConfigError(f"config file {path}: expected a mapping of option names to values")
            for key, value in data.items():
                if str(key) not in known:
                    raise ConfigError(f"config file {path}: unknown option {key!r} "
                                      f"(see --help for the options of {self.prog})")
                if isinstance(value, dict) and str(key).replace("-", "_") not in self.mapping_options:
                    raise ConfigError(f"config file {path}: option {key!r} is a mapping; expected a number, "
                                      "string, boolean or list")
                self._config_keys[str(key).replace("-", "_")] = str(path)


class YAMLConfigFileParser(configargparse.YAMLConfigFileParser):
    """configargparse's YAML reader, passing a nested mapping on as JSON text (not ``str(dict)``,
    which loses ``None`` and the types of strings such as ``'1e-5'``)."""

    def parse(self, stream: Any) -> "dict[str, Any]":
        text = stream.read()
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            return super().parse(io.StringIO(text))  # configargparse's own message for a non-mapping
        result: dict[str, Any] = {}
        for key, value in data.items():  # configargparse's conversions, plus mappings as JSON
            if isinstance(value, dict):
                result[key] = json.dumps(value)
            elif isinstance(value, list):
                result[key] = value
            elif value is not None:
                result[key] = str(value)
        return result


def _config_paths(argv: list[str]) -> list[str]:
    paths = []
    for i, a in enumerate(argv):
        if a == "--config" and i + 1 < len(argv):
            paths.append(argv[i + 1])
        elif a.startswith("--config="):
            paths.append(a.split("=", 1)[1])
    return paths


def str2bool(value: str | bool) -> bool:
    """Parse a boolean option value (true/false, yes/no, 1/0)."""
    if isinstance(value, bool):
        return value
    v = value.strip().lower()
    if v in ("true", "yes", "1", "on"):
        return True
    if v in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean (true/false), got {value!r}")


def _caller_prog(depth: int = 2) -> str:
    """Name of the tool that builds a parser: ``score_sqa`` for ``speechbert.bin.score_sqa``."""
    frame = sys._getframe(depth)
    name = frame.f_globals.get("__name__", "")
    if name == "__main__":
        spec = frame.f_globals.get("__spec__")
        name = getattr(spec, "name", "") or os.path.basename(sys.argv[0])
    return name.rsplit(".", 1)[-1] or os.path.basename(sys.argv[0])


def get_base_parser(description: str, prog: str | None = None) -> ArgumentParser:
    """Return a parser with the options every tool shares: ``--config``, ``--verbose``, ``--seed``.

    ``prog`` defaults to the calling module's short name, so errors read ``score_sqa: error: …``
    rather than ``__main__.py: error: …`` under ``python -m``.
    """
    parser = ArgumentParser(
        prog=prog or _caller_prog(),
        description=description,
        config_file_parser_class=YAMLConfigFileParser,
        formatter_class=configargparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--config", is_config_file=True, help="YAML file of option values (keys = option names)")
    parser.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2],
                        help="0: warnings only, 1: info, 2: debug and full tracebacks")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    return parser


def setup_logging(verbose: int = 1, prefix: str = "") -> None:
    """Configure the root logger with the toolkit's one log format."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    fmt = LOG_FORMAT if not prefix else f"%(asctime)s [{prefix}] (%(module)s:%(lineno)d) %(levelname)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr, force=True)
    if verbose == 0:
        logging.warning("Skip DEBUG/INFO messages")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) random generators."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % (2**32))
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        pass
    # Only seed torch when the tool already imported it: importing torch costs seconds, which
    # dominates light tools such as the scorer.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def run_main(main: Callable[[argparse.Namespace], int | None], parser: ArgumentParser,
             argv: Sequence[str] | None) -> int:
    """Parse ``argv``, set up logging and seeds, run ``main(args)`` and map failures to exit codes.

    Returns the exit status: 0 on success, 1 on an error, 130 on Ctrl-C. A toolkit error
    (:class:`~speechbert.errors.SpeechbertError`: bad input, a bad option) is one readable line
    (its traceback only with ``--verbose 2``). An unexpected exception is a bug: its traceback is
    always written to stderr -- the job log under ``run.pl``/``slurm.pl``, so a failed cluster job
    never has to be rerun to see where it broke -- followed by the same kind of one-line summary.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = 1
    try:
        args = parser.parse_args(argv)
        verbose = args.verbose
        setup_logging(verbose)
        logging.info("%s %s", parser.prog, " ".join(shlex.quote(a) for a in argv))
        for key in sorted(vars(args)):
            logging.debug("ARGS: %s: %s", key, getattr(args, key))
        seed_everything(args.seed)
        code = main(args)
        return int(code or 0)
    except SystemExit as e:  # argparse errors and --help
        return int(e.code) if isinstance(e.code, int) else (0 if e.code is None else 2)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except SpeechbertError as e:
        if verbose >= 2:
            logging.exception("%s failed", parser.prog)
        message = str(e)
        if isinstance(e, ConfigError) and hasattr(parser, "config_note"):
            message = parser.config_note(message)  # a bad value from a YAML config names the file
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - last-resort reporting for unexpected failures
        traceback.print_exc(file=sys.stderr)
        print(f"{parser.prog}: error: {type(e).__name__}: {e} (an unexpected error: its traceback is above)",
              file=sys.stderr)
        return 1


def local_rank_prefix() -> str:
    """``host:rank/world`` for log lines under torchrun, empty otherwise."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        return f"{os.uname().nodename}:{os.environ['RANK']}/{os.environ['WORLD_SIZE']}"
    return ""
