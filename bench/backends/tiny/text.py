"""The tiny backend's text side: a closed-vocabulary tokenizer and a small learned text encoder.

The vocabulary is the synthetic world's (``bench.world.vocabulary()``), frozen into the model's
config at pretraining time. A prompt with any word outside it is refused with
:class:`bench.errors.BackendError` naming the words (never silently dropped). Words are lower-cased
runs of letters and digits (``re.findall(r"[a-z0-9]+", text.lower())``); punctuation is ignored.

The encoder embeds tokens with learned positions, runs a small pre-norm transformer encoder, mean-pools
over the real tokens and projects to one vector per prompt: ``(B, out_dim)`` float32. The empty prompt
``""`` maps to a learned null vector, used for classifier-free guidance.
"""

from __future__ import annotations

import re
from typing import Sequence

import torch
from torch import nn

from bench.errors import BackendError

_WORD = re.compile(r"[a-z0-9]+")
PAD = 0  # token id 0 is padding; word i of the vocabulary is id i + 1


def split_words(text: str) -> list[str]:
    """The words of ``text`` as the tokenizer sees them (lower case, punctuation dropped)."""
    return _WORD.findall(text.lower())


class Tokenizer:
    """Maps prompts to padded id tensors over a fixed vocabulary."""

    def __init__(self, vocabulary: Sequence[str], max_length: int) -> None:
        words = sorted({w for v in vocabulary for w in split_words(v)})
        self.vocabulary: tuple[str, ...] = tuple(words)
        self.index = {w: i + 1 for i, w in enumerate(words)}
        self.max_length = max_length

    def __len__(self) -> int:
        return len(self.vocabulary) + 1

    def unknown_words(self, text: str) -> list[str]:
        """Words of ``text`` that are not in the vocabulary, in order of appearance."""
        return [w for w in split_words(text) if w not in self.index]

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        """Prompts -> ``(B, L)`` int64 ids (``PAD`` = 0 after the last word; ``L = max_length``).

        Raises:
            BackendError: a prompt has out-of-vocabulary words or more than ``max_length`` words.
        """
        ids = torch.full((len(texts), self.max_length), PAD, dtype=torch.long)
        for row, text in enumerate(texts):
            unknown = self.unknown_words(text)
            if unknown:
                raise BackendError(
                    f"prompt {text!r} has words outside the tiny backend's vocabulary: {sorted(set(unknown))}. "
                    f"The tiny model only knows the synthetic world's {len(self.vocabulary)} words "
                    f"(bench.world.vocabulary()); rephrase the prompt with those words, or use the wan backend."
                )
            words = split_words(text)
            if len(words) > self.max_length:
                raise BackendError(
                    f"prompt {text!r} has {len(words)} words; the tiny backend takes at most {self.max_length}. "
                    "Shorten the prompt."
                )
            for col, word in enumerate(words):
                ids[row, col] = self.index[word]
        return ids


class TextEncoder(nn.Module):
    """Token ids ``(B, L)`` -> pooled prompt embeddings ``(B, out_dim)`` float32."""

    def __init__(self, vocab_size: int, max_length: int, width: int, layers: int, heads: int, out_dim: int) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, width)
        self.positions = nn.Parameter(torch.zeros(max_length, width))
        layer = nn.TransformerEncoderLayer(
            width, heads, dim_feedforward=2 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.project = nn.Sequential(nn.Linear(width, out_dim), nn.SiLU(), nn.Linear(out_dim, out_dim))
        self.null = nn.Parameter(torch.zeros(out_dim))  # the empty prompt's embedding
        nn.init.normal_(self.positions, std=0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """``ids``: ``(B, L)`` int64 -> ``(B, out_dim)`` float32; all-padding rows get the null vector."""
        real = ids != PAD  # (B, L)
        x = self.tokens(ids) + self.positions[: ids.shape[1]]
        # empty rows attend to padding (their output is replaced by the null vector); all-masked rows give NaN
        x = self.encoder(x, src_key_padding_mask=~real & real.any(dim=1, keepdim=True))
        x = self.norm(x)
        weights = real.float().unsqueeze(-1)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        out = self.project(pooled)
        empty = ~real.any(dim=1, keepdim=True)
        return torch.where(empty, self.null.expand_as(out), out)
