"""The entry points' view of the command-line scaffolding, which lives in :mod:`speechbert.command_line`.

Library code imports :mod:`speechbert.command_line` itself and never ``speechbert.bin``
(``test/speechbert/test_import_layering.py`` holds it).
"""

from speechbert.command_line import (LOG_FORMAT, ArgumentParser, get_base_parser, local_rank_prefix, run_main,
                                     seed_everything, setup_logging, str2bool)

__all__ = ["LOG_FORMAT", "ArgumentParser", "get_base_parser", "local_rank_prefix", "run_main", "seed_everything",
           "setup_logging", "str2bool"]
