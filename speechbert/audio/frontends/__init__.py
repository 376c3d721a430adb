"""Feature frontends: registered components chosen by ``frontend: <name>`` + ``frontend_conf``.

Built in: ``fbank`` and ``mfcc`` (Kaldi-compatible, :mod:`.kaldi`) and ``ssl`` (wav2vec 2.0 /
HuBERT / WavLM from a local checkpoint, :mod:`.ssl`). See doc/features.md.
"""

from speechbert.audio.frontends.base import FRONTENDS, Frontend
from speechbert.audio.frontends.spec import (frontend_from_dict, frontend_from_type_line, frontend_from_yaml,
                                             frontend_spec, is_legacy, legacy_spec)

__all__ = ["FRONTENDS", "Frontend", "frontend_from_dict", "frontend_from_type_line", "frontend_from_yaml",
           "frontend_spec", "is_legacy", "legacy_spec"]
