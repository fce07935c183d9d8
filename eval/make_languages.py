"""Writes eval/languages.jsonl: dev questions of eval/questions.jsonl translated into Spanish,
German and French (17 each), plus one question in each of 8 other languages and scripts, for
the language check (assistant/language.py, issue 16). Written before the check was tuned.
Run: python eval/make_languages.py
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
T = {
    "q001": (
        "What causes secondary milia?",
        {
            "es": "¿Qué causa los milia secundarios?",
            "de": "Was verursacht sekundäre Milien?",
            "fr": "Qu'est-ce qui cause les milia secondaires ?",
        },
    ),
    "q003": (
        "What are milia?",
        {"es": "¿Qué son los milia?", "de": "Was sind Milien?", "fr": "Que sont les milia ?"},
    ),
    "q009": (
        "Are milia caused by an allergy?",
        {
            "es": "¿Los milia son causados por una alergia?",
            "de": "Werden Milien durch eine Allergie verursacht?",
            "fr": "Les milia sont-ils causés par une allergie ?",
        },
    ),
    "q011": (
        "Do milia form clusters?",
        {
            "es": "¿Los milia forman grupos?",
            "de": "Bilden Milien Gruppen?",
            "fr": "Les milia forment-ils des grappes ?",
        },
    ),
    "q015": (
        "Can dermabrasion cause secondary milia?",
        {
            "es": "¿La dermoabrasión puede causar milia secundarios?",
            "de": "Kann eine Dermabrasion sekundäre Milien verursachen?",
            "fr": "La dermabrasion peut-elle provoquer des milia secondaires ?",
        },
    ),
    "q019": (
        "Is retinol a topical steroid?",
        {
            "es": "¿El retinol es un esteroide tópico?",
            "de": "Ist Retinol ein topisches Steroid?",
            "fr": "Le rétinol est-il un stéroïde topique ?",
        },
    ),
    "q032": (
        "why do I have tiny white spots around my eyes",
        {
            "es": "por qué tengo pequeñas manchas blancas alrededor de los ojos",
            "de": "warum habe ich kleine weiße Punkte um die Augen",
            "fr": "pourquoi j'ai des petits points blancs autour des yeux",
        },
    ),
    "q034": (
        "can I just squeeze them out?",
        {
            "es": "¿puedo simplemente exprimirlos?",
            "de": "kann ich sie einfach ausdrücken?",
            "fr": "est-ce que je peux juste les percer ?",
        },
    ),
    "q069": (
        "Do milia go away without treatment?",
        {
            "es": "¿Los milia desaparecen sin tratamiento?",
            "de": "Verschwinden Milien ohne Behandlung?",
            "fr": "Les milia disparaissent-ils sans traitement ?",
        },
    ),
    "q136": (
        "are milia dangerous",
        {
            "es": "son peligrosos los milia",
            "de": "sind Milien gefährlich",
            "fr": "les milia sont dangereux",
        },
    ),
    "q138": (
        "can i pop milia",
        {
            "es": "puedo reventar los milia",
            "de": "kann ich Milien aufstechen",
            "fr": "je peux percer les milia",
        },
    ),
    "q139": (
        "is retinol good for milia",
        {
            "es": "el retinol es bueno para los milia",
            "de": "ist Retinol gut gegen Milien",
            "fr": "le rétinol est bon pour les milia",
        },
    ),
    "q145": (
        "can babies get milia",
        {
            "es": "los bebés pueden tener milia",
            "de": "können Babys Milien bekommen",
            "fr": "les bébés peuvent avoir des milia",
        },
    ),
    "q153": (
        "is milia genetic",
        {
            "es": "los milia son genéticos",
            "de": "sind Milien erblich",
            "fr": "les milia sont génétiques",
        },
    ),
    "q157": (
        "milia under eyes",
        {
            "es": "milia debajo de los ojos",
            "de": "Milien unter den Augen",
            "fr": "milia sous les yeux",
        },
    ),
    "q159": (
        "how long do milia last",
        {
            "es": "cuánto duran los milia",
            "de": "wie lange halten Milien an",
            "fr": "combien de temps durent les milia",
        },
    ),
    "q162": (
        "Should I squeeze milia myself?",
        {
            "es": "¿Debo exprimir los milia yo mismo?",
            "de": "Sollte ich Milien selbst ausdrücken?",
            "fr": "Dois-je percer les milia moi-même ?",
        },
    ),
}
EXTRA = [  # other languages and scripts, one question each
    ("q003", "it", "Cosa sono i milia?"),
    ("q069", "pt", "Os milia desaparecem sem tratamento?"),
    ("q136", "nl", "Zijn milia gevaarlijk?"),
    ("q145", "pl", "Czy niemowlęta mogą mieć prosaki?"),
    ("q001", "ru", "Что вызывает вторичные милиумы?"),
    ("q003", "zh", "什么是粟丘疹？"),
    ("q159", "tr", "Milia ne kadar sürer?"),
    ("q162", "sv", "Ska jag klämma milier själv?"),
]
rows, n = [], 0
for lang in ("es", "de", "fr"):
    for qid, (en, tr) in T.items():
        n += 1
        rows.append(
            {
                "id": f"l{n:03d}",
                "question": tr[lang],
                "language": lang,
                "english_id": qid,
                "english": en,
            }
        )
english = {qid: en for qid, (en, _) in T.items()}
for qid, lang, q in EXTRA:
    n += 1
    rows.append(
        {
            "id": f"l{n:03d}",
            "question": q,
            "language": lang,
            "english_id": qid,
            "english": english[qid],
        }
    )
with open(ROOT / "eval" / "questions.jsonl", encoding="utf-8") as lines:
    src = {row["id"]: row for row in map(json.loads, lines)}
for r in rows:
    assert (
        src[r["english_id"]]["question"] == r["english"] and src[r["english_id"]]["split"] == "dev"
    ), r
with open(ROOT / "eval" / "languages.jsonl", "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows))
