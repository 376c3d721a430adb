"""The cross-modal masked-language model of stage 6: a :class:`~speechbert.nets.mixed_encoder.MixedEncoder`
and a tied MLM head, masking text tokens and audio words inside ``forward`` (BERT's 80/10/10)."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from speechbert.errors import ConfigError, DataError
from speechbert.nets.mixed_encoder import MixedEncoder

#: first id drawn for random replacement tokens (BERT vocabularies keep specials/unused below it)
_FIRST_RANDOM_ID = 999


class CrossModalMLM(nn.Module):
    """Mixed text/audio encoder + tied MLM head, with masking done in ``forward``."""

    def __init__(self, encoder: MixedEncoder, mlm_head: nn.Module, *, mask_id: int, vocab_size: int,
                 text_mask_prob: float = 0.15, audio_mask_prob: float = 0.15, mask_token_prob: float = 0.8,
                 random_token_prob: float = 0.1, audio_target: str = "first", eval_seed: int = 1234) -> None:
        super().__init__()
        if audio_target not in ("first", "all"):
            raise ConfigError(f"--audio_target {audio_target!r}: expected 'first' or 'all'")
        for name, v in (("text_mask_prob", text_mask_prob), ("audio_mask_prob", audio_mask_prob),
                        ("mask_token_prob", mask_token_prob), ("random_token_prob", random_token_prob)):
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"--{name} must be in [0, 1], got {v}")
        if mask_token_prob + random_token_prob > 1.0:
            raise ConfigError("--mask_token_prob + --random_token_prob must be <= 1")
        self.encoder = encoder
        self.mlm_head = mlm_head
        self.mask_id = mask_id
        self.vocab_size = vocab_size
        self.text_mask_prob = text_mask_prob
        self.audio_mask_prob = audio_mask_prob
        self.mask_token_prob = mask_token_prob
        self.random_token_prob = random_token_prob
        self.audio_target = audio_target
        self.eval_seed = eval_seed

    # State-dict names: encoder.bert.*, encoder.audio_encoder.*, mlm_head.* -- fine-tuning
    # initialises from everything under "encoder".

    def _replacement(self, ids: torch.Tensor, u: torch.Tensor, gen: Optional[torch.Generator]) -> torch.Tensor:
        """BERT's 80/10/10: ``[MASK]`` / random token / unchanged, by the uniform draws ``u``."""
        low = min(_FIRST_RANDOM_ID, self.vocab_size - 1)
        rand_ids = torch.randint(low, self.vocab_size, ids.shape, generator=gen, device=ids.device)
        out = torch.where(u < self.mask_token_prob, torch.full_like(ids, self.mask_id), ids)
        use_rand = (u >= self.mask_token_prob) & (u < self.mask_token_prob + self.random_token_prob)
        return torch.where(use_rand, rand_ids, out)

    def masked_predictions(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor,
                           attention_mask: torch.Tensor, text_maskable: torch.Tensor,
                           audio_targets: Optional[torch.Tensor] = None,
                           audio_feats: Optional[torch.Tensor] = None, audio_lens: Optional[torch.Tensor] = None,
                           audio_batch: Optional[torch.Tensor] = None, audio_pos: Optional[torch.Tensor] = None,
                           ) -> dict[str, torch.Tensor]:
        """Mask, encode and predict; returns per-masked-position losses and correctness."""
        device = input_ids.device
        gen = None
        if not self.training:
            gen = torch.Generator(device=device)
            gen.manual_seed(self.eval_seed)
        ids = input_ids.clone()
        text_masked = (torch.rand(ids.shape, generator=gen, device=device) < self.text_mask_prob) & text_maskable
        n_audio = 0 if audio_feats is None else int(audio_feats.shape[0])
        if n_audio:
            audio_masked = torch.rand(n_audio, generator=gen, device=device) < self.audio_mask_prob
        else:
            audio_masked = torch.zeros(0, dtype=torch.bool, device=device)
        if not bool(text_masked.any()) and not bool(audio_masked.any()):
            # Never a batch without a target: mask the first audio word, else the first text token.
            if n_audio:
                audio_masked[0] = True
            elif bool(text_maskable.any()):
                text_masked.view(-1)[int(text_maskable.view(-1).nonzero()[0])] = True
            else:
                raise DataError("a pre-training batch has nothing to mask (no audio words, no text tokens)")
        u_text = torch.rand(ids.shape, generator=gen, device=device)
        ids = torch.where(text_masked, self._replacement(input_ids, u_text, gen), ids)
        audio_keep = None
        if n_audio:
            u_audio = torch.rand(n_audio, generator=gen, device=device)
            placeholder = input_ids[audio_batch, audio_pos]
            replaced = self._replacement(placeholder, u_audio, gen)
            # A masked audio word kept "unchanged" keeps its audio vector; otherwise its id is used.
            unchanged = u_audio >= self.mask_token_prob + self.random_token_prob
            audio_keep = ~audio_masked | unchanged
            sel = audio_masked & ~unchanged
            ids[audio_batch[sel], audio_pos[sel]] = replaced[sel]
        hidden = self.encoder(ids, token_type_ids, attention_mask, audio_feats, audio_lens, audio_batch,
                              audio_pos, audio_keep)
        tb, tp = text_masked.nonzero(as_tuple=True)
        text_target = input_ids[tb, tp]
        if n_audio:
            am = audio_masked.nonzero(as_tuple=True)[0]
            ab, ap = audio_batch[am], audio_pos[am]
            a_targets = audio_targets[am]
        else:
            ab = ap = torch.zeros(0, dtype=torch.long, device=device)
            a_targets = torch.zeros(0, 1, dtype=torch.long, device=device)
        pos_b = torch.cat([tb, ab])
        pos_p = torch.cat([tp, ap])
        logits = self.mlm_head(hidden[pos_b, pos_p]).float()
        n_text = int(tb.numel())
        logp = F.log_softmax(logits, dim=-1)
        pred = logits.argmax(-1)
        text_loss = -logp[:n_text].gather(1, text_target[:, None]).squeeze(1)
        text_ok = pred[:n_text] == text_target
        a_logp = logp[n_text:]
        if self.audio_target == "first" or a_targets.numel() == 0:
            first = a_targets[:, 0]
            audio_loss = -a_logp.gather(1, first[:, None]).squeeze(1)
            audio_ok = pred[n_text:] == first
        else:
            valid = a_targets >= 0
            picked = a_logp.gather(1, a_targets.clamp_min(0)) * valid
            audio_loss = -picked.sum(1) / valid.sum(1).clamp_min(1)
            audio_ok = ((pred[n_text:, None] == a_targets) & valid).any(1)
        return {"text_loss": text_loss, "text_ok": text_ok, "audio_loss": audio_loss, "audio_ok": audio_ok}

    def forward(self, **batch: torch.Tensor) -> tuple[torch.Tensor, dict, int]:
        out = self.masked_predictions(**batch)
        losses = torch.cat([out["text_loss"], out["audio_loss"]])
        ok = torch.cat([out["text_ok"], out["audio_ok"]]).float()
        n = int(losses.numel())
        return losses.mean(), {"acc": ok.mean().detach()}, n


# ------------------------------------------------------------------------------------- data
