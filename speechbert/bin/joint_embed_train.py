"""Stage 5: train the audio word encoder into BERT's input-embedding space.

Usage: python -m speechbert.bin.joint_embed_train --config conf/<name>.yaml [options]; see --help and
doc/speechbert_tasks.md.
"""

import sys

from speechbert.tasks.joint_embedding import JointEmbeddingTask


def main(argv=None) -> int:
    return JointEmbeddingTask.main(argv)


if __name__ == "__main__":
    sys.exit(main())
