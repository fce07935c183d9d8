"""Query expansion: corpus words matched to question words by meaning, fed to BM25."""

import json
import os
from dataclasses import replace

import numpy as np
import pytest

from assistant import expansion
from assistant.errors import IndexCorruptError
from assistant.expansion import word_model
from assistant.expansion_build import build_vocabulary
from assistant.lexical import LexicalIndex, stem, tokenize
from assistant.settings import from_environment
from assistant.store import VOCABULARY_DIR, build_index, load_index
from tests.test_store import SETTINGS

TEXTS = [
    "Fungus treatments can also promote milia.",
    "Milia often form around the nasal area and the eyes.",
    "Sunburns are common factors behind milia.",
    "Bake the bread at a high temperature.",
]


@pytest.fixture(scope="module")
def model():
    loaded = word_model()
    assert loaded is not None, "the WordLlama word model must load offline"
    return loaded


@pytest.fixture(scope="module")
def vocabulary(model):
    return build_vocabulary(TEXTS, model)


def test_vocabulary_has_one_unit_vector_per_stem(vocabulary):
    assert len(vocabulary.stems) == len(set(vocabulary.stems)) == len(vocabulary.forms)
    assert set(vocabulary.stems) <= {t for doc in tokenize(TEXTS) for t in doc}
    assert {"fungus", "nasal", "sunburn", "bake"} <= set(vocabulary.stems)
    assert not {"can", "also", "the", "often"} & set(vocabulary.forms)  # stop words left out
    assert all(stem(form) == s for s, form in zip(vocabulary.stems, vocabulary.forms))
    assert vocabulary.vectors.shape == (len(vocabulary.stems), 256)
    np.testing.assert_allclose(np.linalg.norm(vocabulary.vectors, axis=1), 1.0, atol=1e-5)


def test_lay_words_reach_the_corpus_words(vocabulary, model):
    [weights] = vocabulary.expand(["could my antifungal cream cause this"], model, 0.3, 10)
    assert weights[stem("fungus")] >= 0.3  # "antifungal" is not in the text; "fungus" is
    [weights] = vocabulary.expand(["bumps on my nose"], model, 0.3, 10)
    assert stem("nasal") in weights
    [weights] = vocabulary.expand(["a bad sunburn"], model, 0.3, 10)
    assert weights[stem("sunburns")] == 1.0  # the question's own word keeps full weight


def test_threshold_and_term_limit_are_respected(vocabulary, model):
    [none] = vocabulary.expand(["antifungal"], model, 0.99, 10)
    assert none == {stem("antifungal"): 1.0}  # nothing is that close: the word alone
    [one] = vocabulary.expand(["antifungal"], model, 0.01, 1)
    assert len(one) == 2 and one[stem("antifungal")] == 1.0  # its own stem and one more
    [modal] = vocabulary.expand(["could"], model, 0.01, 10)
    assert modal == {"could": 1.0}  # a stop word is matched as plain BM25 would, not expanded
    [weights] = vocabulary.expand(["antifungal nose sunburn"], model, 0.3, 10)
    assert all(0.3 <= w <= 1.0 for w in weights.values())
    assert vocabulary.expand(["", "?!", "the and of"], model, 0.3, 10) == [{}, {}, {}]


def test_weighted_scores_generalise_plain_bm25():
    lexical = LexicalIndex.build(TEXTS)
    query = "sunburns and fungus treatments"
    ones = {t: 1.0 for t in tokenize([query])[0]}
    np.testing.assert_allclose(lexical.weighted_scores(ones), lexical.scores(query), rtol=1e-6)
    half = lexical.weighted_scores({stem("fungus"): 0.5})
    np.testing.assert_allclose(half, 0.5 * lexical.scores("fungus"), rtol=1e-6)
    assert not lexical.weighted_scores({"notaword": 1.0}).any()


def test_vocabulary_is_saved_checksummed_and_verified(tmp_path, corpus_copy, fake_embedder):
    index = tmp_path / "index"
    build_index(corpus_copy, index, SETTINGS, fake_embedder, progress=False)
    loaded = load_index(index, corpus_copy, SETTINGS, "fake-hash-embedder")
    assert loaded.vocabulary is not None and len(loaded.vocabulary.stems) > 100
    words = index / VOCABULARY_DIR / "words.json"
    payload = json.loads(words.read_text())
    payload["words"][0][1] = "tampered"
    words.write_text(json.dumps(payload))
    with pytest.raises(IndexCorruptError, match="assistant build"):
        load_index(index, corpus_copy, SETTINGS, "fake-hash-embedder")


LAY = "got little white bumps on my cheeks after a bad sunburn, is that related"


def test_expansion_changes_ranking_only_never_the_quotes(real_assistant, seed_text):
    expanded = real_assistant.ask(LAY)
    plain_assistant = real_assistant
    original = plain_assistant.settings
    try:
        plain_assistant.settings = replace(original, query_expansion=False)
        plain = plain_assistant.ask(LAY)
    finally:
        plain_assistant.settings = original
    for answer in (expanded, plain):
        assert answer.status in ("answered", "related")
        for quote in answer.passages:
            assert quote.text == seed_text[quote.start : quote.end]
    # The passage on sunburn comes first only with expansion ("bad" -> "damage", "sunburn" ->
    # "sun"); without it the article's general description of white bumps wins.
    assert expanded.passages[0].text.startswith("Sunburns and subjection")
    assert not plain.passages[0].text.startswith("Sunburns and subjection")


def test_environment_switch_and_missing_model_turn_it_off(real_assistant, monkeypatch):
    expanded = real_assistant.ask(LAY)
    monkeypatch.setenv("VERBATIM_EXPANSION", "0")  # read at the edges (CLI, app) into Settings
    off = real_assistant.with_settings(from_environment(os.environ)).ask(LAY)
    monkeypatch.delenv("VERBATIM_EXPANSION")
    monkeypatch.setattr(expansion, "_model", None)
    monkeypatch.setattr(expansion, "_failed", True)  # as after a failed load: one warning, off
    missing = real_assistant.ask(LAY)
    assert off.passages[0].id == missing.passages[0].id != expanded.passages[0].id


def test_word_vectors_equal_wordllamas_own(model, seed_text):
    from pathlib import Path

    import wordllama
    from wordllama import WordLlama

    from assistant.lexical import words

    reference = WordLlama.load(
        config="l2_supercat",
        dim=256,
        cache_dir=Path(wordllama.__file__).parent,
        disable_download=True,
    )
    vocabulary = sorted({w for tokens in words([seed_text]) for w in tokens})
    vocabulary += ["antifungal", "mom", "ünïcödé", "x1", "2024"]
    ours = model.embed(vocabulary)
    theirs = np.asarray(reference.embed(vocabulary, norm=True), dtype=np.float32)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert model.embed([""]).tolist() == [[0.0] * 256]  # nothing to average: no vector, no NaN
