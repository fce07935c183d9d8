import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import ROOT

from assistant.chunking import blocks, passages, sentence_spans
from assistant.corpus import Document, load_corpus


@pytest.fixture(scope="module")
def seed_doc() -> Document:
    return load_corpus(ROOT / "corpus")[0]


@pytest.fixture(scope="module")
def seed_passages(seed_doc):
    return passages(seed_doc)


def test_every_passage_and_sentence_is_verbatim(seed_doc, seed_passages):
    assert seed_passages
    for p in seed_passages:
        assert p.text == seed_doc.text[p.start : p.end]
        assert p.text == p.text.strip()
        for s, e in p.sentences:
            assert p.start <= s < e <= p.end
            assert seed_doc.text[s:e].strip() == seed_doc.text[s:e]


@pytest.mark.parametrize(
    "caption",
    [
        "secondary milia disease",
        "milia secondary",
        "neo natal milia",
        "secondary milia drugs",
        "secondary milia trauma",
        "milia on skin",
    ],
)
def test_image_captions_are_never_passages(seed_doc, seed_passages, caption):
    kinds = {seed_doc.text[b.start : b.end]: b.kind for b in blocks(seed_doc)}
    assert kinds[caption] == "caption"
    for p in seed_passages:
        assert caption not in [p.text[s - p.start : e - p.start] for s, e in p.sentences]
        assert not p.text.startswith(caption)


def test_paragraph_broken_across_blank_line_is_one_passage(seed_passages):
    (joined,) = [p for p in seed_passages if "From acne to the" in p.text]
    assert "hypersensitive skin, there is no end" in joined.text
    assert "\n\n" in joined.text  # the original blank line is kept: the quote is verbatim


@pytest.mark.parametrize(
    "before, after",
    [
        ("which stay.", "In young adults"),
        ("these products.", "This also goes"),
        ("immune disorder.", "Saying that"),
    ],
)
def test_run_together_sentences_are_split(seed_doc, seed_passages, before, after):
    sentences = [seed_doc.text[s:e] for p in seed_passages for s, e in p.sentences]
    assert any(s.endswith(before) for s in sentences)
    assert any(s.startswith(after) for s in sentences)


def test_headings_become_sections_and_paragraphs_are_numbered(seed_passages):
    sections = [p.section for p in seed_passages]
    assert "Medication-associated Milia" in sections
    assert "Trauma-associated Milia" in sections
    steroid = next(p for p in seed_passages if "topical steroids promotes" in p.text)
    assert steroid.section == "Medication-associated Milia"
    numbers = [p.paragraph for p in seed_passages]
    assert numbers == sorted(numbers) and numbers[0] == 1


def test_list_is_one_passage_with_its_lead_in(seed_passages):
    (lst,) = [p for p in seed_passages if p.kind == "list"]
    assert lst.text.startswith("There are various classifications of Milia;")
    assert lst.text.endswith("Trauma-associated Milia")


def test_promotional_section_is_flagged(seed_passages):
    promo = [p for p in seed_passages if "Cerobio" in p.text]
    assert promo and all("promotional" in p.flags for p in promo)
    assert all(not p.flags for p in seed_passages if "Cerobio" not in p.text)


def test_titles_and_headings_are_not_passages(seed_passages):
    texts = {p.text for p in seed_passages}
    assert "Secondary Milia" not in texts
    assert "What exactly are secondary milia?" not in texts


def test_markdown_headings_and_bullets():
    text = "# Guide\n\nIntro paragraph here.\n\n## Care\n\n- wash gently\n- do not pick\n"
    doc = Document(source="g.md", text=text, sha256="x", title="Guide")
    ps = passages(doc)
    assert [p.section for p in ps] == ["Guide", "Care"]
    assert ps[1].text == "wash gently\n- do not pick"
    for p in ps:
        assert p.text == text[p.start : p.end]


def test_long_paragraph_is_cut_at_sentence_boundaries():
    text = "Title\n\n" + " ".join(f"Sentence number {i} is here." for i in range(200))
    doc = Document(source="long.txt", text=text, sha256="y", title="Title")
    ps = passages(doc, max_passage_chars=300)
    assert len(ps) > 5
    for p in ps:
        assert p.end - p.start <= 300
        assert p.text == text[p.start : p.end]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=400))
def test_any_text_chunks_verbatim(text):
    doc = Document(source="any.txt", text=text, sha256="z", title="t")
    for p in passages(doc, max_passage_chars=100):
        assert p.text == text[p.start : p.end]
        assert p.start < p.end
        for s, e in p.sentences:
            assert p.start <= s < e <= p.end
    for s, e in sentence_spans(text, 0, len(text)):
        assert 0 <= s <= e <= len(text)
