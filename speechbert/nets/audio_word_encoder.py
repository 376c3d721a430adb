"""Audio word encoder ``rnn`` (the default): an RNN sequence-to-sequence autoencoder over one spoken word's frames.

In YAML: ``awe: rnn`` with ``awe_conf:`` keys of :class:`RNNEncoderConf` (``hidden_size``,
``num_layers``, ``bidirectional``, ``rnn_type``, ``decoder_hidden_size``, ``decoder_layers``,
``decoder_input_size``, ``dropout``). Public API::

    cfg = AudioWordEncoderConfig(input_dim=39, output_size=384)      # output_size = BERT hidden
    enc = AudioWordEncoder(cfg)
    out = enc(feats, lengths)          # feats: B x T x D float, lengths: B long (1 <= len <= T)
    out.vectors                        # B x output_size: one vector per word segment
    out.reconstruction                 # B x T x D; frames past a segment's length are zero
    loss = masked_reconstruction_loss(out.reconstruction, feats, lengths)
    vectors = enc.encode(feats, lengths)   # encoder only (pretraining / fine-tuning)

Encoder: a (GRU or LSTM, optionally bidirectional, ``num_layers`` deep) RNN reads the frames;
the backward direction reads each segment reversed within its own length, so padding (always
after a segment's frames) never changes a segment's result. The last layer's state at each
segment's last frame (both directions concatenated) is projected linearly to ``output_size``: that vector is the audio word's
embedding, trained into the BERT word-embedding space by the joint-embedding task.

Decoder conditioning: no teacher forcing. The decoder's initial hidden state is
``tanh(Linear(vector))`` and at EVERY step its input is ``Linear(vector)`` (``decoder_input_size``
dims: smaller than the vector, which keeps the per-step input projection cheap on CPU)
concatenated with the step's relative position ``t / (len - 1)`` in [0, 1] (so it knows where
in the word it is);
a linear layer maps its output to the D feature dims. Since every frame must be rebuilt from
the vector alone, the vector has to carry the phonetic content. Because the decoder is
unidirectional and its inputs at step t do not depend on the padding, it runs over the padded
batch at once (faster than packing) and the outputs past each length are zeroed.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from speechbert.errors import ConfigError
from speechbert.nets.abs_audio_word_encoder import (AUDIO_WORD_ENCODERS, AbsAudioWordEncoder, AudioWordOutput,
                                                    check_segments, length_mask)

__all__ = ["AudioWordEncoder", "AudioWordEncoderConfig", "AudioWordOutput", "RNNEncoderConf", "length_mask",
           "masked_reconstruction_loss"]

_RNN_TYPES = {"gru": nn.GRU, "lstm": nn.LSTM}
#: parameters of the reconstruction decoder that pre-training and fine-tuning freeze. ``condition``
#: feeds only the decoder: left trainable, it got no gradient, which DDP refuses ("Expected to have
#: finished reduction in the prior iteration") -- ``./run.sh --ngpu 2`` failed in stage 6. Its
#: values never changed either way (no gradient, so AdamW skipped it); only the optimizer's
#: parameter list is shorter, so a run checkpointed by the code before this cannot resume (retrain).
_PRETRAINING_ONLY_PREFIXES = ("init_state.", "decoder.", "out.", "condition.")


@dataclasses.dataclass
class AudioWordEncoderConfig:
    """Sizes of :class:`AudioWordEncoder`."""

    input_dim: int = 39
    output_size: int = 768
    hidden_size: int = 256
    num_layers: int = 1
    bidirectional: bool = True
    rnn_type: str = "gru"
    decoder_hidden_size: int = 256
    decoder_layers: int = 1
    decoder_input_size: int = 64
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.rnn_type not in _RNN_TYPES:
            raise ConfigError(f"rnn_type={self.rnn_type!r}: expected one of {sorted(_RNN_TYPES)}")
        for name in ("input_dim", "output_size", "hidden_size", "num_layers", "decoder_hidden_size",
                     "decoder_layers", "decoder_input_size"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"AudioWordEncoderConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"AudioWordEncoderConfig.dropout must be in [0, 1), got {self.dropout}")


@dataclasses.dataclass(frozen=True)
class RNNEncoderConf:
    """``awe_conf`` of ``awe: rnn``: the sizes of :class:`AudioWordEncoder` (its input and output
    sizes come from the features and the BERT)."""

    hidden_size: int = 256
    num_layers: int = 1
    bidirectional: bool = True
    rnn_type: str = "gru"
    decoder_hidden_size: int = 256
    decoder_layers: int = 1
    decoder_input_size: int = 64
    dropout: float = 0.0

    def __post_init__(self) -> None:
        # The module's config checks the values; building one here names the bad key early.
        AudioWordEncoderConfig(**dataclasses.asdict(self))


@AUDIO_WORD_ENCODERS.register("rnn", RNNEncoderConf)
def build_rnn_encoder(conf: RNNEncoderConf, *, input_dim: int, output_size: int) -> "AudioWordEncoder":
    """RNN autoencoder (the paper's): last states -> linear; a decoder rebuilds the frames."""
    return AudioWordEncoder(AudioWordEncoderConfig(input_dim=int(input_dim), output_size=int(output_size),
                                                   **dataclasses.asdict(conf)))


def masked_reconstruction_loss(reconstruction: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor,
                               kind: str = "mse") -> torch.Tensor:
    """Mean squared (``kind="mse"``) or absolute (``"l1"``) error over the valid frames and dims."""
    mask = length_mask(lengths.to(target.device), target.shape[1]).unsqueeze(-1).to(target.dtype)
    diff = (reconstruction - target) * mask
    per = diff.pow(2) if kind == "mse" else diff.abs() if kind == "l1" else None
    if per is None:
        raise ConfigError(f"reconstruction loss kind={kind!r}: expected 'mse' or 'l1'")
    return per.sum() / (mask.sum() * target.shape[-1]).clamp_min(1.0)


class AudioWordEncoder(AbsAudioWordEncoder):
    """RNN autoencoder: word segment frames → one vector (+ the frames rebuilt from it)."""

    def __init__(self, config: AudioWordEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.input_dim = config.input_dim
        self.output_size = config.output_size
        rnn = _RNN_TYPES[config.rnn_type]
        dirs = 2 if config.bidirectional else 1
        # One single-direction RNN per layer and direction, run over the padded batch (see encode).
        self.encoder = nn.ModuleList(
            nn.ModuleList(rnn(config.input_dim if layer == 0 else dirs * config.hidden_size, config.hidden_size,
                              batch_first=True) for _ in range(dirs))
            for layer in range(config.num_layers))
        self.proj = nn.Linear(dirs * config.hidden_size, config.output_size)
        self.init_state = nn.Linear(config.output_size, config.decoder_layers * config.decoder_hidden_size)
        self.condition = nn.Linear(config.output_size, config.decoder_input_size)
        self.decoder = rnn(config.decoder_input_size + 1, config.decoder_hidden_size, num_layers=config.decoder_layers,
                           batch_first=True, dropout=config.dropout if config.decoder_layers > 1 else 0.0)
        self.out = nn.Linear(config.decoder_hidden_size, config.input_dim)

    @property
    def has_decoder(self) -> bool:
        return True

    def pretraining_only_parameters(self) -> list[str]:
        return [n for n, _ in self.named_parameters() if n.startswith(_PRETRAINING_ONLY_PREFIXES)]

    def _check(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return check_segments(feats, lengths, self.config.input_dim)

    def encode(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """B x T x D frames (+ B lengths) → B x output_size word vectors."""
        lengths = self._check(feats, lengths)
        batch, max_len, _ = feats.shape
        lengths = lengths.to(feats.device)
        # Reversing each segment within its own length (padding stays at the end) lets the
        # backward direction run as a forward RNN over the padded batch: padding only ever comes
        # after a segment's frames, so it cannot change them. Far faster than packed sequences,
        # whose CPU backward pass has no fused kernel.
        steps = torch.arange(max_len, device=feats.device)[None, :]
        valid = steps < lengths[:, None]
        reverse = torch.where(valid, lengths[:, None] - 1 - steps, steps)
        reverse_index = reverse.unsqueeze(-1)
        last_index = (lengths - 1).view(batch, 1, 1)
        x = feats
        finals: list[torch.Tensor] = []
        for layer_index, layer in enumerate(self.encoder):
            if layer_index and self.config.dropout and self.training:
                x = nn.functional.dropout(x, self.config.dropout, training=True)
            outputs = []
            finals = []
            for direction, rnn in enumerate(layer):
                inp = x if direction == 0 else x.gather(1, reverse_index.expand(-1, -1, x.shape[-1]))
                out, _ = rnn(inp)
                finals.append(out.gather(1, last_index.expand(-1, 1, out.shape[-1])).squeeze(1))
                if direction == 1:
                    out = out.gather(1, reverse_index.expand(-1, -1, out.shape[-1]))
                outputs.append(out)
            x = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
        last = torch.cat(finals, dim=-1)
        return self.proj(last)

    def decode(self, vectors: torch.Tensor, lengths: torch.Tensor, max_len: int) -> torch.Tensor:
        """Rebuild B x max_len x D frames from the word vectors (zero past each length)."""
        cfg = self.config
        batch = vectors.shape[0]
        lengths = lengths.to(vectors.device)
        steps = torch.arange(max_len, device=vectors.device, dtype=vectors.dtype)
        rel = steps[None, :] / (lengths[:, None].to(vectors.dtype) - 1).clamp_min(1.0)
        cond = self.condition(vectors)
        inputs = torch.cat([cond[:, None, :].expand(batch, max_len, -1), rel.unsqueeze(-1)], dim=-1)
        h0 = torch.tanh(self.init_state(vectors)).view(batch, cfg.decoder_layers, cfg.decoder_hidden_size)
        h0 = h0.transpose(0, 1).contiguous()
        state = (h0, torch.zeros_like(h0)) if cfg.rnn_type == "lstm" else h0
        hidden, _ = self.decoder(inputs, state)
        frames = self.out(hidden)
        return frames * length_mask(lengths, max_len).unsqueeze(-1).to(frames.dtype)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> AudioWordOutput:
        lengths = self._check(feats, lengths)
        vectors = self.encode(feats, lengths)
        return AudioWordOutput(vectors, self.decode(vectors, lengths, feats.shape[1]))
