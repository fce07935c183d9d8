"""The ONNX encoder: pooling and padding on a tiny hand-made graph (fast), and agreement with
sentence-transformers on every corpus passage, sentence and eval question (real model)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from paths import ROOT

from assistant.errors import ModelUnavailableError
from assistant.onnx_encoder import (
    CONFIG_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    EncoderConfig,
    OnnxEmbedder,
)

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "milia", "are", "small", "cysts", "on", "skin"]


def _tiny_encoder(folder: Path, dim: int = 8) -> np.ndarray:
    """A folder whose "transformer" is an embedding lookup, so the expected output is known."""
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    folder.mkdir()
    table = np.random.default_rng(0).standard_normal((len(WORDS), dim)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["token_embeddings"])],
        "lookup",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [
            helper.make_tensor_value_info(
                "token_embeddings", TensorProto.FLOAT, ["batch", "sequence", dim]
            )
        ],
        [numpy_helper.from_array(table, "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(folder / MODEL_FILE))
    vocab = {w: i for i, w in enumerate(WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer.save(str(folder / TOKENIZER_FILE))
    config = {
        "model_id": "tiny-lookup",
        "dimension": dim,
        "max_seq_length": 5,
        "pooling": "mean",
        "normalize": True,
        "do_lower_case": True,
        "quantized": False,
        "inputs": ["input_ids"],
        "format_version": 1,
    }
    (folder / CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")
    return table


def _expected(table: np.ndarray, text: str, max_len: int = 5) -> np.ndarray:
    ids = [2] + [WORDS.index(w) if w in WORDS else 1 for w in text.lower().split()]
    ids = ids[: max_len - 1] + [3]
    v = table[ids].mean(axis=0)
    return v / np.linalg.norm(v)


def test_pooling_padding_truncation_and_order(tmp_path: Path) -> None:
    table = _tiny_encoder(tmp_path / "enc")
    embedder = OnnxEmbedder(tmp_path / "enc", threads=1)
    texts = ["milia", "Milia are small cysts on skin", "skin cysts", "unknown words here"]
    out = embedder.encode(texts, batch_size=2)
    assert out.dtype == np.float32 and out.shape == (4, 8)
    assert (embedder.model_id, embedder.dimension) == ("tiny-lookup", 8)
    for row, text in zip(out, texts):
        np.testing.assert_allclose(row, _expected(table, text), atol=1e-6)
    # One text alone (no padding) gives the same vector as in a padded batch.
    np.testing.assert_allclose(embedder.encode(["skin cysts"])[0], out[2], atol=1e-6)
    assert embedder.encode([]).shape == (0, 8)


def test_config_validation_names_the_bad_value() -> None:
    with pytest.raises(ValueError, match="pooling='cls'"):
        EncoderConfig(model_id="m", dimension=4, pooling="cls")
    with pytest.raises(ValueError, match="dimension"):
        EncoderConfig(model_id="m", dimension=0)


def test_missing_or_broken_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="assistant build"):
        OnnxEmbedder(tmp_path / "nowhere")
    _tiny_encoder(tmp_path / "enc")
    (tmp_path / "enc" / MODEL_FILE).write_bytes(b"not onnx")
    with pytest.raises(ModelUnavailableError, match=MODEL_FILE):
        OnnxEmbedder(tmp_path / "enc")


def test_module_does_not_import_torch(tmp_path: Path) -> None:
    _tiny_encoder(tmp_path / "enc")
    code = (
        "import sys; from assistant.onnx_encoder import OnnxEmbedder; "
        f"OnnxEmbedder({str(tmp_path / 'enc')!r}).encode(['milia']); "
        "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    from assistant.onnx_export import export_onnx

    folder = tmp_path_factory.mktemp("encoder") / "fp32"
    export_onnx(real_embedder.model, folder, model_id=real_embedder.model_id)
    return folder


def _all_texts() -> list[str]:
    from assistant.settings import Settings
    from assistant.store import load_index, passage_embedding_text

    settings = Settings()
    index = load_index(ROOT / "index", ROOT / "corpus", settings, settings.model)
    passages = [passage_embedding_text(p, settings) for p in index.passages]
    sentences = [
        index.documents[p.source].text[s:e] for p in index.passages for s, e in p.sentences
    ]
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    return passages + sentences + questions


@pytest.mark.model
def test_onnx_matches_sentence_transformers(exported: Path, real_embedder) -> None:
    texts = _all_texts()
    onnx_embedder = OnnxEmbedder(exported)
    assert onnx_embedder.model_id == real_embedder.model_id
    assert onnx_embedder.dimension == real_embedder.dimension
    reference = real_embedder.encode(texts)
    batched = (onnx_embedder.encode(texts) * reference).sum(axis=1)
    assert batched.min() >= 0.99, f"min cosine {batched.min():.4f}"
    # Questions arrive one at a time at query time: no padding at all.
    single = [float(onnx_embedder.encode([t])[0] @ r) for t, r in zip(texts[-20:], reference[-20:])]
    assert min(single) >= 0.99
    # A text longer than max_seq_length is truncated the same way.
    long_text = " ".join(texts[:20])
    assert float(onnx_embedder.encode([long_text])[0] @ real_embedder.encode([long_text])[0]) > 0.99
