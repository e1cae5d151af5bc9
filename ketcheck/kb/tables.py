"""The declared keys of every data table: what each file may hold, checked before it is built."""

from __future__ import annotations

from ketcheck.kb.spec import Key, Kind, Spec
from ketcheck.model import ClassKind, Effect, ReviewOutcome

# The rapidfuzz scorers matching.toml may name (matching/resolve.py builds them).
SCORERS = ("ratio", "levenshtein", "jaro_winkler", "wratio", "blend")

# The advice every rule kind carries (model.Advice), declared once for every table that holds it.
ADVICE_KEYS = (
    Key(name="severity", kind=Kind.STR, required=True),
    Key(name="effects", kind=Kind.STR_LIST, required=True, non_empty=True, choices=tuple(Effect)),
    Key(name="effect", kind=Kind.STR, required=True, non_empty=True),
    Key(name="mechanism", kind=Kind.STR, required=True, non_empty=True),
    Key(name="management", kind=Kind.STR, required=True, non_empty=True),
    Key(name="evidence", kind=Kind.STR, required=True, non_empty=True),
    Key(name="references", kind=Kind.STR_LIST, required=True, non_empty=True),
    Key(name="disagreement", kind=Kind.STR, non_empty=True),
    Key(name="standing_note", kind=Kind.STR, non_empty=True),
)

META = Spec(
    keys=(
        Key(name="release", kind=Kind.STR, non_empty=True),
        Key(name="licence", kind=Kind.STR),
    )
)

# classes.toml: one table per class id.
CLASS = Spec(
    keys=(
        Key(name="kind", kind=Kind.STR, required=True, choices=tuple(ClassKind)),
        Key(name="label", kind=Kind.STR, required=True, non_empty=True),
    )
)

# ingredients/*.toml: one table per ingredient id.
INGREDIENT = Spec(
    keys=(
        Key(name="classes", kind=Kind.STR_LIST, required=True),
        Key(name="brands", kind=Kind.STR_LIST),
        Key(name="synonyms", kind=Kind.STR_LIST),
        Key(name="rxcui", kind=Kind.STR, non_empty=True),
        Key(name="note", kind=Kind.STR),
        Key(name="review", kind=Kind.TABLE),  # how the ingredient was reviewed: REVIEW
    )
)
REVIEW = Spec(
    keys=(
        Key(name="outcome", kind=Kind.STR, required=True, choices=tuple(ReviewOutcome)),
        Key(name="basis", kind=Kind.STR, required=True, non_empty=True),
    )
)

PRODUCTS_FILE = Spec(keys=(Key(name="product", kind=Kind.TABLE_LIST),))
PRODUCT = Spec(
    keys=(
        Key(name="name", kind=Kind.STR, required=True, non_empty=True),
        Key(name="ingredients", kind=Kind.STR_LIST, required=True, non_empty=True),
        Key(name="also", kind=Kind.STR_LIST),
    )
)

RULES_FILE = Spec(keys=(Key(name="rule", kind=Kind.TABLE_LIST),))
RULE = Spec(
    keys=(
        Key(name="id", kind=Kind.STR, required=True, non_empty=True),
        Key(name="applies_to", kind=Kind.STR, required=True, non_empty=True),
        *ADVICE_KEYS,
        Key(name="hold_hours", kind=Kind.NUMBER, minimum=0, maximum=24 * 90),
        Key(name="hold_basis", kind=Kind.STR, non_empty=True),
        Key(name="after_hours", kind=Kind.NUMBER, minimum=0, maximum=24 * 90),
        Key(name="route_severity", kind=Kind.TABLE),
        Key(name="replaces", kind=Kind.STR_LIST),
    )
)

COMBINATIONS_FILE = Spec(keys=(Key(name="combination", kind=Kind.TABLE_LIST),))
COMBINATION = Spec(
    keys=(
        Key(name="id", kind=Kind.STR, required=True, non_empty=True),
        Key(name="members", kind=Kind.STR_LIST, required=True, non_empty=True),
        Key(name="min_distinct", kind=Kind.INT, required=True, minimum=1),
        Key(name="require", kind=Kind.STR_LIST),
        Key(name="duplicate_therapy", kind=Kind.BOOL),
        *ADVICE_KEYS,
    )
)

LOOKALIKES_FILE = Spec(keys=(Key(name="pair", kind=Kind.TABLE_LIST),))
LOOKALIKE = Spec(
    keys=(
        Key(name="names", kind=Kind.STR_LIST, required=True),
        Key(name="source", kind=Kind.STR, required=True, non_empty=True),
        Key(name="note", kind=Kind.STR),
    )
)

# shared-names.toml: names that mean different drugs in different countries.
SHARED_NAMES_FILE = Spec(keys=(Key(name="name", kind=Kind.TABLE_LIST),))
SHARED_NAME = Spec(
    keys=(
        Key(name="name", kind=Kind.STR, required=True, non_empty=True),
        Key(name="meanings", kind=Kind.LIST, required=True, non_empty=True),
        Key(name="source", kind=Kind.STR, required=True, non_empty=True),
    )
)

MATCHING = Spec(
    keys=(
        Key(name="min_letters", kind=Kind.INT, minimum=1, maximum=50),
        Key(name="threshold", kind=Kind.NUMBER, minimum=1, maximum=100),
        Key(name="margin", kind=Kind.NUMBER, minimum=0, maximum=100),
        Key(name="lookalike_floor", kind=Kind.NUMBER, minimum=0, maximum=100),
        Key(name="lookalike_window", kind=Kind.NUMBER, minimum=0, maximum=100),
        Key(name="suggest_floor", kind=Kind.NUMBER, minimum=0, maximum=100),
        Key(name="scorer", kind=Kind.STR, choices=SCORERS),
        Key(name="limit", kind=Kind.INT, minimum=1, maximum=100),
    )
)
