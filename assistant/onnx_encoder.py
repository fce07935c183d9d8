"""A query-time encoder without torch: ONNX Runtime and `tokenizers` running the same weights.

`onnx_export.export_onnx` runs at build time (it needs torch) and writes a folder::

    model.onnx       the transformer (fp32)
    tokenizer.json   the model's fast tokenizer, as `tokenizers` reads it
    encoder.json     model id, dimension, max_seq_length, pooling, normalize, quantized, ...

`OnnxEmbedder(folder)` implements the `Embedder` protocol from that folder alone: tokenize with
truncation to `max_seq_length`, run the graph, mean-pool over the attention mask and L2-normalise,
which is what sentence-transformers' Transformer -> Pooling(mean) -> Normalize pipeline does.
Importing this module and using `OnnxEmbedder` never imports torch, transformers or
sentence-transformers, so a query process starts in a fraction of the time.

>>> embedder = OnnxEmbedder("index/encoder")                 # doctest: +SKIP
>>> embedder.encode(["What causes milia?"]).shape            # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelUnavailableError

log = logging.getLogger(__name__)

ENCODER_FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
#: The graph's inputs, in the order BERT-style models take them.
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class EncoderConfig:
    """What `encoder.json` holds: enough to reproduce sentence-transformers' output exactly."""

    model_id: str
    dimension: int
    max_seq_length: int = 256
    pooling: str = "mean"
    normalize: bool = True
    do_lower_case: bool = False
    quantized: bool = False  # read for older exports; the export writes fp32 only
    inputs: tuple[str, ...] = INPUT_NAMES
    format_version: int = ENCODER_FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.pooling != "mean":
            raise ValueError(f"only mean pooling is supported, got pooling={self.pooling!r}")
        if self.dimension <= 0:
            raise ValueError(f"dimension must be positive, got {self.dimension!r}")
        if self.max_seq_length <= 2:
            raise ValueError(f"max_seq_length must be above 2, got {self.max_seq_length!r}")
        if not set(self.inputs) <= set(INPUT_NAMES) or "input_ids" not in self.inputs:
            raise ValueError(f"inputs must be drawn from {INPUT_NAMES}, got {self.inputs!r}")

    @classmethod
    def read(cls, folder: Path) -> EncoderConfig:
        raw = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        if raw.get("format_version") != ENCODER_FORMAT_VERSION:
            raise ValueError(
                f"encoder format {raw.get('format_version')!r}, expected {ENCODER_FORMAT_VERSION}"
            )
        raw["inputs"] = tuple(raw.get("inputs", INPUT_NAMES))
        return cls(**raw)


def default_threads() -> int:
    """The cores this process may run on (cgroup/affinity aware where the OS tells)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class OnnxEmbedder:
    """The `Embedder` protocol over an exported folder, with ONNX Runtime and `tokenizers`."""

    def __init__(self, folder: Path | str, *, threads: int | None = None) -> None:
        folder = Path(folder)
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError:
            raise ModelUnavailableError(
                "the ONNX encoder needs onnxruntime and tokenizers. "
                "Install them with `pip install onnxruntime tokenizers`."
            ) from None
        try:
            self.config = EncoderConfig.read(folder)
            tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        except Exception as exc:  # noqa: BLE001 - tokenizers raises untyped errors
            raise ModelUnavailableError(
                f"cannot read the ONNX encoder in {folder} ({type(exc).__name__}: {exc}). "
                f"Rebuild the index with `assistant build`."
            ) from None
        tokenizer.enable_truncation(max_length=self.config.max_seq_length)
        pad_id = tokenizer.token_to_id("[PAD]")
        tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        self._tokenizer = tokenizer
        self.model_id = self.config.model_id
        self.dimension = self.config.dimension
        self.threads = threads or default_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(folder / MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise ModelUnavailableError(
                f"cannot load {folder / MODEL_FILE} ({type(exc).__name__}: {exc}). "
                f"Rebuild the index with `assistant build`."
            ) from None
        self._inputs = tuple(i.name for i in self._session.get_inputs())

    def words(self) -> frozenset[str]:
        """The whole, lower-case, alphabetic words of the tokenizer's vocabulary (spelling.py's
        known English words)."""
        from .spelling import whole_words

        return whole_words(self._tokenizer.get_vocab())

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        if self.config.do_lower_case:
            texts = [t.lower() for t in texts]
        # Like sentence-transformers: batch texts of similar length so padding stays short.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for lo in range(0, len(order), batch_size):
            rows = order[lo : lo + batch_size]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        feeds = {k: v for k, v in feeds.items() if k in self._inputs}
        (tokens,) = self._session.run(["token_embeddings"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        if self.config.normalize:
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            pooled = pooled / np.clip(norms, 1e-12, None)
        return pooled.astype(np.float32, copy=False)
