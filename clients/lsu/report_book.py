"""Mock report books, the same for a child every time: drawn from the child's `sub`."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

PERIODS = ("1er trimestre", "2e trimestre", "3e trimestre")
SUBJECTS = (
    ("Français", "Mme Bernard"),
    ("Mathématiques", "Mme Bernard"),
    ("Questionner le monde", "M. Petit"),
    ("Langue vivante (anglais)", "Ms Taylor"),
    ("Éducation physique et sportive", "M. Garnier"),
    ("Arts plastiques", "Mme Roux"),
)
LEVELS = (
    "Objectifs non atteints",
    "Objectifs partiellement atteints",
    "Objectifs atteints",
    "Objectifs dépassés",
)
COMMENTS = (
    "{name} participe volontiers et progresse régulièrement.",
    "Un travail sérieux ; {name} doit encore gagner en autonomie.",
    "De très bons résultats : bravo {name} !",
    "{name} comprend vite ; attention au soin apporté aux cahiers.",
    "Des efforts visibles ce trimestre, à poursuivre.",
    "{name} doit davantage relire son travail.",
)


@dataclass(frozen=True)
class Line:
    subject: str
    teacher: str
    level: str
    comment: str


@dataclass(frozen=True)
class Period:
    name: str
    lines: list[Line]
    general_comment: str


def report_book(child_sub: str, given_name: str, published: int = 2) -> list[Period]:
    """The first ``published`` periods of the child's report book."""
    seed = int.from_bytes(hashlib.sha256(child_sub.encode()).digest()[:8], "big")
    draw = random.Random(seed)  # noqa: S311 (mock data, not a secret)
    periods = []
    for name in PERIODS[:published]:
        lines = [
            Line(
                subject,
                teacher,
                draw.choice(LEVELS[1:]),
                draw.choice(COMMENTS).format(name=given_name),
            )
            for subject, teacher in SUBJECTS
        ]
        general = draw.choice(COMMENTS).format(name=given_name)
        periods.append(Period(name, lines, general))
    return periods
