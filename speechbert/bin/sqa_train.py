"""Stage 7: fine-tune for spoken question answering (--input_modality text: the cascade's text QA model).

Usage: python -m speechbert.bin.sqa_train --config conf/<name>.yaml [options]; see --help and
doc/speechbert_tasks.md.
"""

import sys

from speechbert.tasks.sqa_finetune import SQATask


def main(argv=None) -> int:
    return SQATask.main(argv)


if __name__ == "__main__":
    sys.exit(main())
