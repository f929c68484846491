"""Pages of the canteen demo: each child's meal account (mock data drawn from its `sub`)."""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta

from flask import Blueprint, render_template

from clients.rp import current_user, own_child, signed_in, signed_out_notice

bp = Blueprint("pages", __name__)

MENUS = (
    "Carottes râpées, poulet basquaise, riz, yaourt",
    "Potage, poisson pané, purée, fruit de saison",
    "Salade de lentilles, omelette, haricots verts, fromage blanc",
    "Concombre, bœuf bourguignon, pâtes, compote",
    "Betteraves, gratin de légumes, semoule, clémentine",
)
DAYS = ("lundi", "mardi", "jeudi", "vendredi")


def _account(child_sub: str) -> dict:
    seed = int.from_bytes(hashlib.sha256(child_sub.encode()).digest()[:8], "big")
    draw = random.Random(seed)  # noqa: S311 (mock data, not a secret)
    monday = date.today() - timedelta(days=date.today().weekday())
    return {
        "balance": f"{draw.randint(0, 6000) / 100:.2f}".replace(".", ","),
        "meal_price": "3,45",
        "menu": [(day, draw.choice(MENUS)) for day in DAYS],
        "week_of": monday.strftime("%d/%m/%Y"),
    }


@bp.get("/")
def home() -> str:
    return render_template("home.html", user=current_user(), signed_out=signed_out_notice())


@bp.get("/enfant/<child_sub>")
@signed_in
def child(child_sub: str) -> str:
    """One child's meal account; only a child of the signed-in parent (else 404)."""
    return render_template("child.html", child=own_child(child_sub), account=_account(child_sub))
