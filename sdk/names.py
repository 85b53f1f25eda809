"""Readable run names and short ids."""

from __future__ import annotations

import secrets

ADJECTIVES = (
    "brisk calm bold quiet bright swift gentle eager lucky misty noble proud rapid silent sunny vivid wild "
    "amber azure crisp dusty fancy frosty golden hazy jolly keen lively mellow polished rustic sleek snowy "
    "stellar sturdy tidy twilight wandering warm wise young clever cosmic daring divine earnest floral"
).split()
NOUNS = (
    "river forest sun hill meadow ocean valley breeze cloud dawn dune field firefly glade harbor lake leaf "
    "moon mountain night pine pond rain reef sky snow star stone storm thunder tree wave wind frost brook "
    "canyon cedar comet delta ember fern glacier grove haze island lagoon mesa nebula orbit prairie"
).split()

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_id(length: int = 8) -> str:
    """A short random id, e.g. 'k3x9q2mz'."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_name(number: int) -> str:
    """A readable name like 'brisk-river-12', numbered within its project."""
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}-{number}"
