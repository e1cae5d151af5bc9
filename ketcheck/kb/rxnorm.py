"""RxNorm codes: the generated code table, validated, and each ingredient's own code."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ketcheck.errors import DataError

if TYPE_CHECKING:
    from ketcheck.kb.knowledge import Ingredient
    from ketcheck.kb.spec import Spec

CODES_FILE = "generated/rxnorm-codes.tsv"
TTYS = ("IN", "PIN", "MIN", "SCDC", "SCD", "SBD", "BN", "GPCK", "BPCK")
COLUMNS = ("rxcui", "tty", "ingredients", "canonical", "name")


def row_spec() -> Spec:
    """The key specification of one table row (built only when the table is, not at start-up)."""
    from ketcheck.kb.spec import Key, Kind, Spec

    return Spec(
        keys=(
            Key(name="rxcui", kind=Kind.STR, required=True, non_empty=True),
            Key(name="tty", kind=Kind.STR, required=True, choices=TTYS),
            Key(name="ingredients", kind=Kind.STR_LIST, required=True, non_empty=True),
            Key(name="canonical", kind=Kind.BOOL, required=True),
            Key(name="name", kind=Kind.STR, required=True, non_empty=True),
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Code:
    """One RxNorm concept and the curated ingredients it contains (all of them)."""

    rxcui: str
    tty: str
    ingredients: tuple[str, ...]
    name: str


class CodeIndex:
    """RxNorm code -> concept, read on first lookup; `dropped` counts generated rows naming an
    unknown ingredient (dropped whole)."""

    __slots__ = ("_codes", "_load", "dropped")

    def __init__(
        self,
        codes: Mapping[str, Code] | None = None,
        *,
        load: Callable[[], Mapping[str, Code]] | None = None,
        dropped: int = 0,
    ) -> None:
        self._codes = codes if codes is not None or load is not None else {}
        self._load = load
        self.dropped = dropped

    @property
    def codes(self) -> Mapping[str, Code]:
        """Every code (most checks never ask, so the table is read only when one does)."""
        if self._codes is None:
            assert self._load is not None
            self._codes = self._load()
        return self._codes

    def get(self, rxcui: str) -> Code | None:
        """The concept under this code, or None when the bundled list does not hold it."""
        return self.codes.get(rxcui.strip())


def build_codes(
    rows: Sequence[Sequence[str]], ingredients: Mapping[str, Ingredient]
) -> tuple[dict[str, Ingredient], CodeIndex]:
    """Validate the generated rows; fill each ingredient's rxcui; raises DataError.

    A row naming an ingredient we no longer curate is dropped whole (never shortened to the
    ingredients that remain) and counted. A hand-written `rxcui` must be one of the
    ingredient's own codes in the table (its IN or a salt PIN) when the table lists one.
    """
    codes: dict[str, Code] = {}
    own: dict[str, str] = {}
    dropped = 0
    spec = row_spec()
    for n, row in enumerate(rows, start=1):
        where = f"data/{CODES_FILE} row {n}"
        if len(row) != len(COLUMNS):
            raise DataError(f"{where}: expected {len(COLUMNS)} columns, got {len(row)}")
        table = dict(zip(COLUMNS, row, strict=True))
        ings = tuple(table["ingredients"].split("+"))
        canonical = {"yes": True, "": False}.get(table["canonical"], table["canonical"])
        spec.check({**table, "ingredients": list(ings), "canonical": canonical}, where)
        rxcui = table["rxcui"]
        if not rxcui.isdigit():
            raise DataError(f"{where}: rxcui: must be digits, got {rxcui!r}")
        if rxcui in codes:
            raise DataError(f"{where}: rxcui: {rxcui} is listed twice")
        if any(i not in ingredients for i in ings):
            dropped += 1
            continue
        codes[rxcui] = Code(rxcui=rxcui, tty=table["tty"], ingredients=ings, name=table["name"])
        if canonical:
            if table["tty"] != "IN" or len(ings) != 1:
                raise DataError(f"{where}: canonical: only a one-ingredient IN row can be")
            if ings[0] in own:
                raise DataError(f"{where}: canonical: {ings[0]} already has code {own[ings[0]]}")
            own[ings[0]] = rxcui
    out: dict[str, Ingredient] = {}
    for ing_id, ing in ingredients.items():
        written = ing.rxcui
        generated = own.get(ing_id)
        hit = codes.get(written) if written else None
        if written and hit is not None and hit.ingredients != (ing_id,):
            raise DataError(
                f"ingredients [{ing_id}]: rxcui {written} is RxNorm's code for "
                f"{'+'.join(hit.ingredients)} ({hit.name}), not {ing_id}"
            )
        own_code = hit is not None and hit.tty in ("IN", "PIN")
        if written and generated and written != generated and not own_code:
            raise DataError(
                f"ingredients [{ing_id}]: rxcui {written} disagrees with RxNorm, whose "
                f"ingredient code for {ing_id} is {generated} ({CODES_FILE})"
            )
        if written and written not in codes:
            # A curated code the extract lacks (its gap): kept as that ingredient's code.
            codes[written] = Code(rxcui=written, tty="IN", ingredients=(ing_id,), name=ing_id)
        chosen = generated or written
        out[ing_id] = ing if chosen == ing.rxcui else replace(ing, rxcui=chosen)
    return out, CodeIndex(codes=codes, dropped=dropped)
