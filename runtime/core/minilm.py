"""all-MiniLM-L6-v2 in numpy: the same vectors sentence-transformers makes with torch (within
float32 rounding, tests/unit/knowledge/test_minilm.py), for ~90 MB of weights instead of torch's
~1.2 GiB, so a tenant's idle agent pod stays small.

What sentence-transformers runs for this model (its modules.json): the BERT encoder (6 layers,
12 heads, GELU), mean pooling over the real tokens (1_Pooling), then L2 normalisation. Texts
are WordPiece-tokenized by the model's own tokenizer.json, cut at its max_seq_length (256)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

Matrix = npt.NDArray[np.float32]
Linear = tuple[Matrix, Matrix]  # weight and bias (a LayerNorm's scale and shift)
# The model's sentence-transformers config cuts texts here (sentence_bert_config.json).
MAX_SEQ_LENGTH = 256
BATCH_SIZE = 32  # sentence-transformers' default
# Tokens of one batch at most (texts times the longest): long texts go in smaller batches, so that
# the attention scores of a batch stay under ~25 MB.
BATCH_TOKENS = 2048


@dataclass(frozen=True)
class Layer:
    """One encoder layer's weights as stored, (out, in): `x @ w.T` is the linear map (BLAS
    reads the transpose in place, no copy)."""

    query: Linear
    key: Linear
    value: Linear
    attention_out: Linear
    attention_norm: Linear
    intermediate: Linear
    output: Linear
    output_norm: Linear


class MiniLM:
    """`MiniLM.load(model_dir).encode(["Aveți parcare?"])` → an (n, 384) float32 array of unit
    vectors. Not thread-safe: one caller at a time (the embedder's lock)."""

    def __init__(self, tokenizer: Tokenizer, config: dict[str, Any], weights: dict[str, Matrix],
                 threads: int) -> None:
        self._tokenizer = tokenizer
        self._pad_id = int(config.get("pad_token_id", 0))
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config["layer_norm_eps"])
        self._words = weights["embeddings.word_embeddings.weight"]
        self._positions = weights["embeddings.position_embeddings.weight"]
        self._token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self._embedding_norm = _pair(weights, "embeddings.LayerNorm")
        self._layers = [_layer(weights, f"encoder.layer.{n}")
                        for n in range(int(config["num_hidden_layers"]))]
        self._threads = threads
        # OpenBLAS otherwise starts a spinning thread per core: on a busy machine one
        # sentence then took 250 ms instead of 15.
        self._blas = ThreadpoolController()

    @classmethod
    def load(cls, model_dir: Path, threads: int = 1) -> MiniLM:
        config = json.loads((model_dir / "config.json").read_text())
        _check_modules(model_dir)
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json pads and cuts at 128; sentence-transformers cuts at max_seq_length
        # and pads each batch to its longest text.
        max_length = json.loads((model_dir / "sentence_bert_config.json").read_text()).get(
            "max_seq_length", MAX_SEQ_LENGTH)
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.no_padding()
        weights = load_file(str(model_dir / "model.safetensors"))
        return cls(tokenizer, config, weights, threads)

    def encode(self, texts: Sequence[str]) -> Matrix:
        """One normalised vector per text, in the order given."""
        vectors = np.empty((len(texts), self._words.shape[1]), dtype=np.float32)
        tokens = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
        with self._blas.limit(limits=self._threads, user_api="blas"):
            for batch in _batches(tokens):
                vectors[batch] = self._encode_batch([tokens[i] for i in batch])
        return vectors

    def _encode_batch(self, tokens: list[list[int]]) -> Matrix:
        """Texts padded to the longest of the batch, padding masked out of attention and
        pooling."""
        ids = np.full((len(tokens), max(map(len, tokens))), self._pad_id, dtype=np.int64)
        mask = np.zeros(ids.shape, dtype=np.float32)
        for row, text in enumerate(tokens):
            ids[row, :len(text)] = text
            mask[row, :len(text)] = 1
        hidden = self._words[ids] + self._positions[:ids.shape[1]] + self._token_type
        hidden = _layer_norm(hidden, self._embedding_norm, self._eps)
        # exp() of this is 0: padding gets no attention (transformers adds float32's minimum).
        padding = ((1 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self._layers:
            hidden = self._encoder_layer(hidden, padding, layer)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(
            mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return vectors

    def _encoder_layer(self, hidden: Matrix, padding: Matrix, layer: Layer) -> Matrix:
        batch, length, width = hidden.shape
        size = width // self._heads
        query, key, value = (
            _linear(hidden, part).reshape(batch, length, self._heads, size).transpose(0, 2, 1, 3)
            for part in (layer.query, layer.key, layer.value))
        scores: Matrix = query @ key.transpose(0, 1, 3, 2)
        scores *= np.float32(1 / math.sqrt(size))
        scores += padding
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context: Matrix = (scores @ value).transpose(0, 2, 1, 3).reshape(batch, length, width)
        attended = _linear(context, layer.attention_out)
        hidden = _layer_norm(attended + hidden, layer.attention_norm, self._eps)
        output = _linear(_gelu(_linear(hidden, layer.intermediate)), layer.output)
        return _layer_norm(output + hidden, layer.output_norm, self._eps)


def _batches(tokens: list[list[int]]) -> list[list[int]]:
    """Indexes of texts of similar length per batch (less padding), longest first."""
    order = sorted(range(len(tokens)), key=lambda i: -len(tokens[i]))
    batches: list[list[int]] = []
    for index in order:
        # The first of a batch is its longest.
        if batches and len(batches[-1]) < min(BATCH_SIZE, BATCH_TOKENS // len(
                tokens[batches[-1][0]])):
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


def _check_modules(model_dir: Path) -> None:
    """Refuse a model whose sentence-transformers pipeline is not the one computed here."""
    kinds = [module["type"].rsplit(".", 1)[-1]
             for module in json.loads((model_dir / "modules.json").read_text())]
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    modes = {name for name, on in pooling.items() if name.startswith("pooling_mode") and on}
    if kinds != ["Transformer", "Pooling", "Normalize"] or modes != {"pooling_mode_mean_tokens"}:
        raise ValueError(f"{model_dir}: modules {kinds} pooling {modes} are not MiniLM's")


def _layer(weights: dict[str, Matrix], prefix: str) -> Layer:
    def linear(name: str) -> Linear:
        return _pair(weights, f"{prefix}.{name}")

    return Layer(query=linear("attention.self.query"), key=linear("attention.self.key"),
                 value=linear("attention.self.value"),
                 attention_out=linear("attention.output.dense"),
                 attention_norm=linear("attention.output.LayerNorm"),
                 intermediate=linear("intermediate.dense"), output=linear("output.dense"),
                 output_norm=linear("output.LayerNorm"))


def _pair(weights: dict[str, Matrix], prefix: str) -> Linear:
    return weights[f"{prefix}.weight"], weights[f"{prefix}.bias"]


def _linear(x: Matrix, linear: Linear) -> Matrix:
    weight, bias = linear
    result: Matrix = x @ weight.T + bias
    return result


def _layer_norm(x: Matrix, norm: Linear, eps: float) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    scale, shift = norm
    result: Matrix = centred / np.sqrt(variance + np.float32(eps)) * scale + shift
    return result


def _gelu(x: Matrix) -> Matrix:
    """BERT's exact GELU, x * Φ(x) = x/2 · erfc(-x/√2). numpy has no erfc: this is Numerical
    Recipes' Chebyshev fit (erfcc), relative error below 1.2e-7 everywhere, so the tail of
    negative inputs stays exact too."""
    # Beyond 9, erfc is below float32's smallest normal number: denormals are 4x slower.
    z = np.minimum(np.abs(x) * np.float32(1 / math.sqrt(2)), np.float32(9))
    t = 1 / (1 + np.float32(0.5) * z)
    poly = np.full_like(t, 0.17087277)
    for coefficient in (-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
                        0.09678418, 0.37409196, 1.00002368, -1.26551223):
        poly = poly * t + np.float32(coefficient)
    tail = t * np.exp(-z * z + poly)  # erfc(|x|/√2)
    result: Matrix = np.float32(0.5) * x * np.where(x < 0, tail, 2 - tail)
    return result
