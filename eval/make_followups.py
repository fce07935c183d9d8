"""Writes eval/followups.jsonl: two-turn exchanges for the conversation rules (issue 16).

Written before the follow-up rules were tuned. Each exchange is a first question (`history`)
and a second one (`question`) with its gold evidence; `followup` says whether the second turn
needs the first to be understood (and so should be read together with it) or is a new
question that must be read alone. Quotes are exact phrases of the corpus; their offsets are
computed here and checked (text[start:end] == quote). Run: python eval/make_followups.py
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "secondary-milia.txt"
TEXT = (ROOT / "corpus" / SOURCE).read_bytes().decode("utf-8")

# (first question, second question, second turn is a follow-up, evidence quotes)
FOLLOWUPS = [
    (
        "Do milia go away on their own?",
        "what about on babies?",
        [
            "Milia may appear in newborns but usually with babies, it disappears within a couple weeks"
        ],
    ),
    (
        "Can steroid creams make milia worse?",
        "what about fungus treatments?",
        ["Fungus treatments can also be promoter of Milia."],
    ),
    (
        "Can a tattoo cause milia?",
        "and chemical peels?",
        [
            "Any treatment which has a damaging effect on your skin, whether it be a tattoo, heavy "
            "invasive beauty treatments, such as chemical peels"
        ],
    ),
    (
        "Can lupus cause milia?",
        "what about diabetes?",
        [
            "Due to the auto immune nature of such health issues as Lupus and Diabetes, secondary "
            "Milia is a common skin condition"
        ],
    ),
    (
        "Can a professional extract milia?",
        "what are the downsides of that?",
        [
            "there is the possibilities and a great chance of actually leaving in-situ the eccrine "
            "connective tissue",
            "Leaving this in place, causes two issues.",
        ],
    ),
    (
        "What cream is best for milia?",
        "does it stop them coming back?",
        ["This will mean you get a smoother skin and your Milia will not return"],
    ),
    (
        "Is laser therapy a good treatment for milia?",
        "why has it fallen out of favour?",
        [
            "This is why such treatments for milia, such as laser therapy and dermabrasion have "
            "started to fall out of grace."
        ],
    ),
    (
        "What are milia made of?",
        "and where do they usually form?",
        [
            "Milia are clusters of small milium cysts which often form around the cheeks, nasal "
            "area and eyes."
        ],
    ),
    (
        "Which medications can cause milia?",
        "what about retinol?",
        [
            "This also goes to show how the recommendation of applying something like Retinol, a "
            "topical steroid, will possibly benefit the removal of Milia."
        ],
    ),
    (
        "Does exfoliating help milia?",
        "why not?",
        [
            "using harsh exfoliating products may actually increase the problem",
            "This is because secondary milia are triggered by the inability of dead epidermis skin "
            "cells to flake off your skin.",
        ],
    ),
    (
        "Can sunburn cause milia?",
        "how does that happen?",
        [
            "For instance, sun exposure damages the surface of your skin and that destruction "
            "causes your skin to thicken."
        ],
    ),
    (
        "Where does secondary milia originate in the skin?",
        "and primary milia?",
        [
            "Whilst they may look and resemble primary Milia, as they are both on the surface tiny "
            "Keratin cysts."
        ],
    ),
    (
        "Is disease-associated milia inherited?",
        "should I tell my doctor about it?",
        ["to make sure that your Doctor is aware if you start noticing large batches of Milia"],
    ),
    (
        "Can makeup make milia worse?",
        "why would that happen?",
        [
            "its the Makeup clogging up the pores and giving the Milia the chance to spread even "
            "further"
        ],
    ),
    (
        "Does alopecia cause milia?",
        "is that primary or secondary milia?",
        [
            "Due to the fact that Alopecia affects the eccrine tissue in the follicle, then the "
            "classification of secondary Milia is asserted."
        ],
    ),
    ("Are milia dangerous?", "do they hurt?", ["not because it’s bothersome or painful"]),
    (
        "Can trauma cause milia?",
        "what kind of trauma?",
        [
            "As the name implies, trauma associated Milia arises from damage to the skin, whether "
            "it be small or a large traumatic event on the skin.",
            "whether it be a tattoo, heavy invasive beauty treatments, such as chemical peels",
        ],
    ),
    (
        "Should I squeeze milia myself?",
        "what if a dermatologist does it?",
        [
            "Whilst in the hands of a professional, there is the possibilities and a great chance "
            "of actually leaving in-situ the eccrine connective tissue"
        ],
    ),
]

NEW = [
    (
        "does retinol help?",
        "how long do they last?",
        [
            "Milia may appear in newborns but usually with babies, it disappears within a couple weeks",
            "In young adults and older people, normally, it may not go away whatsoever without "
            "treatment.",
        ],
    ),
    (
        "What causes secondary milia?",
        "Can a tattoo cause milia?",
        ["whether it be a tattoo, heavy invasive beauty treatments"],
    ),
    (
        "Can steroid creams make milia worse?",
        "Will milia leave a scar?",
        ["If you attempt to take them off yourself, you will be left with ugly scars."],
    ),
    (
        "Are milia dangerous?",
        "What is the difference between milia and acne?",
        ["Unlike acne, which almost all of us recognize with its white head full of puss"],
    ),
    (
        "Can babies get milia?",
        "Is retinol a topical steroid?",
        ["something like Retinol, a topical steroid"],
    ),
    (
        "How do I get rid of milia?",
        "Why do harsh exfoliating products make milia worse?",
        [
            "using harsh exfoliating products may actually increase the problem",
            "This is because secondary milia are triggered by the inability of dead epidermis skin "
            "cells to flake off your skin.",
        ],
    ),
    (
        "What are milia?",
        "Do milia go away on their own?",
        [
            "Milia may appear in newborns but usually with babies, it disappears within a couple weeks",
            "In young adults and older people, normally, it may not go away whatsoever without "
            "treatment.",
        ],
    ),
    (
        "Can lupus cause milia?",
        "Which medications can cause milia?",
        [
            "These can be and are not limited to, topical steroids, cyclosporine, benoxaprofen, "
            "penicillamine, fluorouracil."
        ],
    ),
    (
        "Is milia genetic?",
        "Can sunburn cause milia?",
        [
            "Sunburns and subjection to ultraviolet rays of the sun are also common factors behind "
            "milia."
        ],
    ),
    (
        "What cream is best for milia?",
        "Are milia caused by an allergy?",
        [
            "These white bumps aren’t an allergy, nor are they triggered by a contamination or an "
            "allergy."
        ],
    ),
    (
        "Should I squeeze milia myself?",
        "Why is my milia coming back?",
        [
            "it is very very common for the Milia to return, as there is still the connective "
            "tissue that helped formed the Milia in place"
        ],
    ),
    (
        "Does laser treatment work for milia?",
        "What protein gets trapped under the skin to form milia?",
        [
            "They are formed because of trapped cell proteins, known as keratin under the skin’s "
            "surface."
        ],
    ),
    (
        "Can makeup cause milia?",
        "Can poison ivy blisters lead to milia?",
        ["specifically any time when your skin had blisters such as with poison ivy allergy"],
    ),
    (
        "Do milia form clusters?",
        "and can alopecia cause milia?",
        [
            "The auto-immune recessive disorder, which is responsible for Alopecia and hair loss, "
            "commonly present Milia"
        ],
    ),
    (
        "What does milia look like?",
        "Is it a good idea to treat trauma-associated milia with traumatic treatments?",
        [
            "the more the trauma associated milia being treated by traumatic treatments, can be "
            "viewed as being a bad idea"
        ],
    ),
    (
        "Can dermabrasion cause milia?",
        "What happens if the root of the milia is left in place during extraction?",
        [
            "Leaving this in place, causes two issues.",
            "it is very very common for the Milia to return",
        ],
    ),
    (
        "Who painted the Mona Lisa?",
        "What are milia?",
        [
            "Milia are clusters of small milium cysts which often form around the cheeks, nasal "
            "area and eyes."
        ],
    ),
    (
        "Are milia contagious?",
        "Where on the face do milia usually appear?",
        [
            "Milia are clusters of small milium cysts which often form around the cheeks, nasal "
            "area and eyes."
        ],
    ),
]

# Issue 22 (2026-12-08), written before that issue changed any rule: short continuations that
# were misread, and questions whose pronoun means the topic rather than the previous
# question's object. Ids f037 on; `python eval/make_followups.py` writes both sets.
BABIES = "Milia may appear in newborns but usually with babies, it disappears within a couple weeks"
ADULTS = (
    "In young adults and older people, normally, it may not go away whatsoever without treatment."
)
SAFE = "They’re called milium, and milia are safe."
FOLLOWUPS_2 = [
    ("Do milia go away on their own?", "and on babies?", [BABIES]),
    ("Do milia go away on their own?", "and babies?", [BABIES]),
    ("Do newborns get milia?", "how about adults?", [ADULTS]),
    (
        "Can a tattoo cause milia?",
        "and sunburn?",
        ["Sunburns and subjection to ultraviolet rays of the sun are also common factors"],
    ),
    (
        "Can lupus cause milia?",
        "and alopecia?",
        ["which is responsible for Alopecia and hair loss, commonly present Milia"],
    ),
    (
        "Can steroid creams make milia worse?",
        "and cyclosporine?",
        ["topical steroids, cyclosporine, benoxaprofen, penicillamine, fluorouracil."],
    ),
    (
        "Does laser treatment work for milia?",
        "how about dermabrasion?",
        ["such as laser therapy and dermabrasion have started to fall out of grace."],
    ),
    (
        "Can makeup cause milia?",
        "and exfoliating scrubs?",
        ["using harsh exfoliating products may actually increase the problem"],
    ),
]
NEW_2 = [
    ("what cream should I use", "is it cancer", [SAFE]),
    ("What cream is best for milia?", "is it dangerous?", [SAFE]),
    ("Can a tattoo cause milia?", "Do milia hurt?", ["not because it’s bothersome or painful"]),
]


def span(quote: str) -> dict:
    start = TEXT.find(quote)
    if start < 0 or TEXT.find(quote, start + 1) >= 0:
        raise SystemExit(f"quote missing or not unique: {quote!r}")
    end = start + len(quote)
    assert TEXT[start:end] == quote
    return {"source": SOURCE, "start": start, "end": end, "quote": quote}


def main() -> None:
    rows = []
    pairs = [(f, True) for f in FOLLOWUPS] + [(n, False) for n in NEW]
    pairs += [(f, True) for f in FOLLOWUPS_2] + [(n, False) for n in NEW_2]
    for n, ((first, second, quotes), followup) in enumerate(pairs, start=1):
        rows.append(
            {
                "id": f"f{n:03d}",
                "history": [first],
                "question": second,
                "followup": followup,
                "answerable": True,
                "kind": "followup" if followup else "new",
                "split": "dev" if n % 2 else "test",
                "evidence": [span(q) for q in quotes],
            }
        )
    out = ROOT / "eval" / "followups.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} exchanges written to {out}")


if __name__ == "__main__":
    main()
