"""Neural networks: the BERT encoder (HF-weight compatible), its heads, the audio word encoders.

Public API (see each module's docstring for details)::

    from speechbert.nets import (BertConfig, BertEncoder, BertModel, BertOutput, MLMHead, SpanHead,
                                 load_pretrained_bert, read_pretrained_bert, PretrainedBert,
                                 AudioWordEncoder, AudioWordEncoderConfig, masked_reconstruction_loss)

    bert = load_pretrained_bert(bert_dir, num_hidden_layers=2, type_vocab_size=3)
    hidden = bert(input_ids, attention_mask, token_type_ids)[0]            # B x T x H
    text_vecs = bert.embed_tokens(input_ids)                                # raw embeddings
    hidden = bert(word_embeds=mixed_vecs, attention_mask=m, token_type_ids=t)[0]
    mlm = MLMHead(bert.config, bert.word_embeddings)       # or read_pretrained_bert(...).mlm_head()
    start_logits, end_logits = SpanHead(bert.config.hidden_size)(hidden, mask=allowed)
    awe = AudioWordEncoder(AudioWordEncoderConfig(input_dim=39, output_size=bert.config.hidden_size))
    vecs, recon = awe(feats, lengths)

Registered components (doc/extending.md): the audio word encoders ``AUDIO_WORD_ENCODERS``
(``awe: rnn | mean_pool | units``; interface :class:`AbsAudioWordEncoder`) and the span heads
``SPAN_HEADS`` (``span_head: linear | mlp``; interface :class:`AbsSpanHead`)::

    awe = AUDIO_WORD_ENCODERS.build("mean_pool", {"hidden_size": 128}, input_dim=80, output_size=384)
    head = SPAN_HEADS.build("linear", {}, hidden_size=384, initializer_range=0.02)

The models of the training stages (each ``forward`` returns ``(loss, stats, weight)``; the
tasks in :mod:`speechbert.tasks` build them and their batches) are in their own modules:
``joint_embedding_model`` (stage 5), ``mixed_encoder`` (BERT over text tokens and audio word
vectors), ``cross_modal_mlm`` (stage 6) and ``span_qa_model`` (stage 7).
"""

from speechbert.nets.abs_audio_word_encoder import (
    AUDIO_WORD_ENCODERS,
    AbsAudioWordEncoder,
    AudioWordOutput,
    length_mask,
)
from speechbert.nets.audio_word_encoder import (
    AudioWordEncoder,
    AudioWordEncoderConfig,
    masked_reconstruction_loss,
)
from speechbert.nets.bert import BertEncoder, BertModel, BertOutput
from speechbert.nets.config import BertConfig
from speechbert.nets.heads import AbsSpanHead, MLMHead, SpanHead
from speechbert.nets.span_heads import SPAN_HEADS
from speechbert.nets.pretrained import (
    PretrainedBert,
    load_pretrained_bert,
    map_hf_state_dict,
    read_pretrained_bert,
    resolve_bert_dir,
)

__all__ = [
    "AUDIO_WORD_ENCODERS", "AbsAudioWordEncoder", "AbsSpanHead", "SPAN_HEADS", "AudioWordEncoder", "AudioWordEncoderConfig", "AudioWordOutput", "BertConfig", "BertEncoder",
    "BertModel", "BertOutput", "MLMHead", "PretrainedBert", "SpanHead", "length_mask",
    "load_pretrained_bert", "map_hf_state_dict", "masked_reconstruction_loss", "read_pretrained_bert",
    "resolve_bert_dir",
]
