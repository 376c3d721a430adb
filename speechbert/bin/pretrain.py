"""Stage 6: cross-modal masked-language-model pre-training over text and audio words.

Usage: python -m speechbert.bin.pretrain --config conf/<name>.yaml [options]; see --help and
doc/speechbert_tasks.md.
"""

import sys

from speechbert.tasks.pretrain import PretrainTask


def main(argv=None) -> int:
    return PretrainTask.main(argv)


if __name__ == "__main__":
    sys.exit(main())
