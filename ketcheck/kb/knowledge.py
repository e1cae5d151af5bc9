"""The knowledge base: classes, ingredients, names, rules and matching policy, validated."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from ketcheck.errors import DataError
from ketcheck.kb.lexicon import Lexicon, NameEntry, search_texts
from ketcheck.kb.rxnorm import CODES_FILE, CodeIndex, build_codes
from ketcheck.matching.normalise import name_key
from ketcheck.model import Advice, Effect, Route, Severity
from ketcheck.model import ClassKind as ClassKind  # re-exported: code imports them from here
from ketcheck.model import ReviewOutcome as ReviewOutcome

ID_PATTERN = r"^[a-z0-9][a-z0-9 '\-]*$"  # compiled only when the tables are built
SOURCE_CURATED = "curated"
SOURCE_FDA = "fda-unii"
SOURCE_RXNORM = "rxnorm"


class TargetKind(StrEnum):
    """What a rule is attached to: a class, one ingredient, or every reviewed drug (the default)."""

    CLASS = "class"
    INGREDIENT = "ingredient"
    DEFAULT = "default"
    NOT_REVIEWED = "not-reviewed"  # a recognised ingredient whose data carries no review
    SESSION_MEDICINE = "session-medicine"  # the session's own drug on the list


# The knowledge types are entities, loaded once per process: they compare by identity (eq=False),
# which also spares defining field-wise __eq__ and __hash__ for each at every start.


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DrugClass:
    """A class of drugs that rules attach to."""

    id: str
    label: str
    kind: ClassKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Review:
    """The recorded review of one ingredient: the outcome and, in a few words, why."""

    outcome: ReviewOutcome
    basis: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Ingredient:
    """A parent substance with the classes it belongs to and its review (None = not reviewed)."""

    id: str
    classes: tuple[str, ...]
    rxcui: str | None = None
    review: Review | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Rule(Advice):
    """One sourced interaction rule for a class or an ingredient."""

    id: str
    target_kind: TargetKind
    target: str
    hold_hours: float | None = None
    hold_basis: str | None = None
    after_hours: float | None = None
    route_severity: Mapping[Route, Severity] = field(default_factory=dict)
    replaces: tuple[str, ...] | None = None

    def severity_for(self, route: Route) -> Severity:
        """The severity on this route (pharmacokinetic rules differ by route)."""
        return self.route_severity.get(route, self.severity)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Combination(Advice):
    """A risk that appears only when several drugs add up."""

    id: str
    members: tuple[str, ...]
    min_distinct: int
    require: tuple[str, ...]
    duplicate_therapy: bool = False  # the members are the session drug itself (FHIR DUPTHPY)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Matching:
    """Fuzzy-matching policy, chosen by measurement and kept in data/matching.toml."""

    min_letters: int
    threshold: float
    margin: float
    lookalike_floor: float
    lookalike_window: float
    suggest_floor: float
    scorer: str
    limit: int


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class KnowledgeBase:
    """Everything a check needs, loaded once."""

    release: str
    version: str
    classes: Mapping[str, DrugClass]
    ingredients: Mapping[str, Ingredient]
    rules: tuple[Rule, ...]
    default_rule: Rule
    not_reviewed_rule: Rule
    session_rule: Rule
    combinations: tuple[Combination, ...]
    lexicon: Lexicon
    matching: Matching
    rules_by_target: Mapping[str, Rule]
    licence: str = ""
    rxnorm: CodeIndex = field(default_factory=CodeIndex)  # RxNorm codes, read when first asked
    # Each ingredient's class ids alone: naming a candidate's classes need not unpack its record.
    ingredient_classes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def rule_for(self, target: str) -> Rule | None:
        """The rule attached to "class:<id>" or "ingredient:<id>", if any."""
        return self.rules_by_target.get(target)

    def classes_of(self, ingredients: Sequence[str]) -> tuple[str, ...]:
        """Class ids of these ingredients, in first-seen order."""
        seen: dict[str, None] = {}
        quick = self.ingredient_classes
        for ing in ingredients:
            if quick:
                found = quick.get(ing, ())
            else:
                info = self.ingredients.get(ing)
                found = info.classes if info else ()
            for c in found:
                seen[c] = None
        return tuple(seen)


def by_target(rules: Sequence[Rule]) -> dict[str, Rule]:
    """The index `KnowledgeBase.rule_for` reads: "class:<id>" or "ingredient:<id>" -> its rule."""
    return {f"{r.target_kind}:{r.target}": r for r in rules}


# --- building from authored TOML ------------------------------------------------------------


def _need(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise DataError(f"{where}: missing key {key!r}")
    value = table[key]
    if not isinstance(value, kind):
        raise DataError(f"{where}: {key!r} must be {kind.__name__}, got {type(value).__name__}")
    return value


def _opt(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise DataError(f"{where}: {key!r} must be {kind.__name__}, got {type(value).__name__}")
    return value


def _str_list(table: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DataError(f"{where}: {key!r} must be a list of non-empty strings")
    return value


def _severity(text: Any, where: str) -> Severity:
    if not isinstance(text, str):
        raise DataError(f"{where}: severity must be a string")
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise DataError(f"{where}: {exc}") from None


def _effects(value: Any, where: str) -> tuple[Effect, ...]:
    if not isinstance(value, list) or not value:
        raise DataError(f"{where}: 'effects' must be a non-empty list of safety/efficacy")
    try:
        return tuple(Effect(v) for v in value)
    except ValueError:
        raise DataError(f"{where}: 'effects' must contain only 'safety' or 'efficacy'") from None


def _advice(body: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The advice every rule kind carries, from a row its table spec (ADVICE_KEYS) has checked."""
    advice = {f.name: body.get(f.name) for f in fields(Advice)}  # optional text: None if absent
    advice["severity"] = _severity(body["severity"], where)
    advice["effects"] = _effects(body["effects"], where)
    advice["references"] = tuple(body["references"])
    return advice


def _row_where(filename: str, what: str, index: int, name: object) -> str:
    """How an error names a row: by its id or name when it has one, else by position."""
    return (
        f"{filename} {what} {name!r}"
        if isinstance(name, str)
        else f"{filename} {what} #{index + 1}"
    )


# Rules with these `applies_to` values are not attached to a class or an ingredient.
SPECIAL_TARGETS = (TargetKind.DEFAULT, TargetKind.NOT_REVIEWED, TargetKind.SESSION_MEDICINE)


def build(sources: Mapping[str, Any], *, version: str) -> KnowledgeBase:
    """Validate the authored tables and assemble the knowledge base; raises DataError."""
    from ketcheck.kb import tables  # declared keys: needed only when building, not at startup

    meta = tables.META.check(sources.get("meta.toml", {}), "meta.toml")
    release = str(meta.get("release", "unreleased"))
    licence = str(meta.get("licence", ""))

    classes = _build_classes(sources.get("classes.toml", {}))
    ingredients, curated_names, defined_in = _build_ingredients(sources, classes)
    ingredients, rxnorm = build_codes(sources.get(CODES_FILE, []), ingredients)
    products = _build_products(sources, ingredients)
    rules, special = _build_rules(sources.get("rules.toml", {}), classes, ingredients)
    _check_reviews(ingredients, classes, rules, defined_in)
    combinations = _build_combinations(sources.get("combinations.toml", {}), classes, ingredients)
    matching = _build_matching(sources.get("matching.toml", {}))

    entries: dict[str, list[NameEntry]] = {}
    sets: list[tuple[str, ...]] = []
    set_index: dict[tuple[str, ...], int] = {}

    def index_of(ings: tuple[str, ...]) -> int:
        if ings not in set_index:
            set_index[ings] = len(sets)
            sets.append(ings)
        return set_index[ings]

    def add(name: str, ings: tuple[str, ...], kind: str, source: str, where: str) -> bool:
        key = name_key(name)
        if not key:
            raise DataError(f"{where}: name {name!r} has no letters or digits")
        if any(ch < " " or ch == "\x7f" for ch in name):
            raise DataError(f"{where}: name {name!r} contains a control character")
        idx = index_of(ings)
        existing = entries.get(key)
        if existing:
            if any(e.set_index == idx for e in existing):
                return True
            if source != SOURCE_CURATED:
                return False  # curated names win over the generated tables
            other = sets[existing[0].set_index]
            raise DataError(
                f"{where}: name {name!r} maps to {'+'.join(ings)} but already to {'+'.join(other)}"
            )
        entries[key] = [NameEntry(name, idx, kind, source)]
        return True

    for name, meanings in _build_shared_names(sources.get("shared-names.toml", {}), ingredients):
        entries[name_key(name)] = [
            NameEntry(name, index_of(m), "brand", SOURCE_CURATED) for m in meanings
        ]
    for ing_id, kind, name, where in curated_names:
        add(name, (ing_id,), kind, SOURCE_CURATED, where)
    for name, ings, kind, where in products:
        add(name, ings, kind, SOURCE_CURATED, where)
    # RxNorm brand names next, with RxNorm's whole ingredient set: they win over the FDA list,
    # which collapses combinations onto one ingredient (Ziac -> hydrochlorothiazide alone).
    for row in sources.get(CODES_FILE, []):
        if len(row) > 4 and row[1] == "BN" and row[4].strip():
            add(row[4], tuple(sorted(row[2].split("+"))), "brand", SOURCE_RXNORM, CODES_FILE)
    for name, ings in _pack_brands(sources.get(CODES_FILE, [])).items():
        add(name, ings, "brand", SOURCE_RXNORM, CODES_FILE)
    dropped = 0
    for row in sources.get("generated/fda-names.tsv", []):
        name, ing_field, kind = row[0], row[1], row[2]
        ings = tuple(sorted(ing_field.split("+")))
        if any(i not in ingredients for i in ings):
            dropped += 1
            continue
        if not add(name, ings, kind, SOURCE_FDA, "generated/fda-names.tsv"):
            dropped += 1

    lookalikes = _build_lookalikes(sources.get("lookalikes.toml", {}), entries, sets)
    names = {k: tuple(v) for k, v in entries.items()}
    searchable, prefixes, partner_keys = search_texts(
        names, tuple(sets), lookalikes, SOURCE_CURATED
    )
    lexicon = Lexicon(
        names=names,
        sets=tuple(sets),
        partners=lookalikes,
        dropped_generated=dropped,
        searchable=searchable,
        prefixes=prefixes,
        partner_keys=partner_keys,
    )
    return KnowledgeBase(
        release=release,
        version=version,
        classes=classes,
        ingredients=ingredients,
        rules=rules,
        default_rule=special["default"],
        not_reviewed_rule=special["not-reviewed"],
        session_rule=special["session-medicine"],
        combinations=combinations,
        lexicon=lexicon,
        matching=matching,
        rules_by_target=by_target(rules),
        licence=licence,
        rxnorm=rxnorm,
        ingredient_classes={i.id: i.classes for i in ingredients.values()},
    )


def _build_classes(table: Mapping[str, Any]) -> dict[str, DrugClass]:
    from ketcheck.kb import tables

    classes: dict[str, DrugClass] = {}
    for cid, body in table.items():
        where = f"classes.toml [{cid}]"
        tables.CLASS.check(body, where)
        if not re.fullmatch(r"[a-z0-9][a-z0-9\-]*", cid):
            raise DataError(f"{where}: class ids are lowercase letters, digits and hyphens")
        classes[cid] = DrugClass(id=cid, label=body["label"], kind=ClassKind(body["kind"]))
    return classes


def _build_ingredients(
    sources: Mapping[str, Any], classes: Mapping[str, DrugClass]
) -> tuple[dict[str, Ingredient], list[tuple[str, str, str, str]], dict[str, str]]:
    from ketcheck.kb import tables

    ingredients: dict[str, Ingredient] = {}
    defined_in: dict[str, str] = {}
    names: list[tuple[str, str, str, str]] = []
    for filename in sorted(f for f in sources if f.startswith("ingredients/")):
        for ing_id, body in sources[filename].items():
            where = f"{filename}: [{ing_id}]"
            if not re.match(ID_PATTERN, ing_id):
                raise DataError(f"{where}: ingredient ids are lowercase generic names")
            if ing_id in ingredients:
                raise DataError(f"{where}: ingredient already defined in {defined_in[ing_id]}")
            tables.INGREDIENT.check(body, where)
            for c in body["classes"]:
                if c not in classes:
                    raise DataError(f"{where}: classes: unknown class {c!r}")
            review: Review | None = None
            if "review" in body:
                table = tables.REVIEW.check(body["review"], f"{where}: review")
                if any(ch < " " or ch == "\x7f" for ch in table["basis"]):
                    raise DataError(f"{where}: review: basis: contains a control character")
                review = Review(
                    outcome=ReviewOutcome(table["outcome"]), basis=table["basis"].strip()
                )
            ingredients[ing_id] = Ingredient(
                id=ing_id, classes=tuple(body["classes"]), rxcui=body.get("rxcui"), review=review
            )
            defined_in[ing_id] = filename
            names.append((ing_id, "generic", ing_id, where))
            names.extend((ing_id, "brand", n, where) for n in body.get("brands", []))
            names.extend((ing_id, "synonym", n, where) for n in body.get("synonyms", []))
    return ingredients, names, defined_in


def has_interaction(
    ingredient: Ingredient, classes: Mapping[str, DrugClass], rule_targets: Iterable[str]
) -> bool:
    """True when an interaction-kind class or an own rule applies to the ingredient."""
    own = f"ingredient:{ingredient.id}"
    interacts = any(classes[c].kind is ClassKind.INTERACTION for c in ingredient.classes)
    return interacts or own in rule_targets


def _check_reviews(
    ingredients: Mapping[str, Ingredient],
    classes: Mapping[str, DrugClass],
    rules: Sequence[Rule],
    defined_in: Mapping[str, str],
) -> None:
    """A review's outcome must agree with the ingredient's classes and rules."""
    targets = {f"{r.target_kind}:{r.target}" for r in rules}
    for ing in ingredients.values():
        if ing.review is None:
            continue  # reported at run time as "not reviewed"; a data test lists these
        interacts = has_interaction(ing, classes, targets)
        where = f"{defined_in[ing.id]}: [{ing.id}]: review: outcome"
        if ing.review.outcome is ReviewOutcome.NO_INTERACTION and interacts:
            raise DataError(
                f"{where}: 'no-interaction', but the ingredient has an interaction class or rule"
            )
        if ing.review.outcome is ReviewOutcome.INTERACTION and not interacts:
            raise DataError(
                f"{where}: 'interaction', but no interaction class or own rule applies"
                " (add one in classes.toml/rules.toml, or record 'no-interaction')"
            )


def _build_products(
    sources: Mapping[str, Any], ingredients: Mapping[str, Ingredient]
) -> list[tuple[str, tuple[str, ...], str, str]]:
    from ketcheck.kb import tables

    out: list[tuple[str, tuple[str, ...], str, str]] = []
    for filename in sorted(f for f in sources if f.startswith("products/")):
        rows = tables.PRODUCTS_FILE.check(sources[filename], filename).get("product", [])
        for i, body in enumerate(rows):
            where = _row_where(filename, "product", i, body.get("name"))
            tables.PRODUCT.check(body, where)
            name = body["name"]
            ings = _str_list(body, "ingredients", where)
            for ing in ings:
                if ing not in ingredients:
                    raise DataError(f"{where}: unknown ingredient {ing!r}")
            key = tuple(sorted(set(ings)))
            out.append((name, key, "product", where))
            out.extend((n, key, "product", where) for n in _str_list(body, "also", where))
    return out


def _build_rules(
    table: Mapping[str, Any],
    classes: Mapping[str, DrugClass],
    ingredients: Mapping[str, Ingredient],
) -> tuple[tuple[Rule, ...], dict[str, Rule]]:
    from ketcheck.kb import tables

    rules: list[Rule] = []
    special: dict[str, Rule] = {}
    seen_ids: set[str] = set()
    seen_targets: dict[str, str] = {}
    for i, body in enumerate(tables.RULES_FILE.check(table, "rules.toml").get("rule", [])):
        where = _row_where("rules.toml", "rule", i, body.get("id"))
        tables.RULE.check(body, where)
        rid = body["id"]
        if rid in seen_ids:
            raise DataError(f"{where}: duplicate rule id")
        seen_ids.add(rid)
        applies = _need(body, "applies_to", str, where)
        if applies in SPECIAL_TARGETS:
            kind, target = applies, ""
        else:
            kind, _, target = applies.partition(":")
            if kind == "class" and target not in classes:
                raise DataError(f"{where}: applies_to names unknown class {target!r}")
            if kind == "ingredient" and target not in ingredients:
                raise DataError(f"{where}: applies_to names unknown ingredient {target!r}")
            if kind not in ("class", "ingredient"):
                raise DataError(f"{where}: applies_to must be 'class:<id>' or 'ingredient:<id>'")
            if applies in seen_targets:
                raise DataError(f"{where}: {applies} already has rule {seen_targets[applies]!r}")
            seen_targets[applies] = rid
        if not _str_list(body, "references", where):
            raise DataError(f"{where}: every rule needs at least one reference")
        hold = body.get("hold_hours")
        if hold is not None and "hold_basis" not in body:
            raise DataError(f"{where}: a hold needs 'hold_basis' saying where it comes from")
        after = body.get("after_hours")
        if after is not None and hold is None:
            raise DataError(f"{where}: after_hours goes with hold_hours and its hold_basis")
        route_sev: dict[Route, Severity] = {}
        for route_name, sev in (_opt(body, "route_severity", dict, where) or {}).items():
            try:
                route = Route(route_name)
            except ValueError:
                raise DataError(
                    f"{where}: route_severity has unknown route {route_name!r}"
                ) from None
            route_sev[route] = _severity(sev, f"{where} route_severity.{route_name}")
        replaces = body.get("replaces")
        if replaces is not None:
            replaces = _str_list(body, "replaces", where)
            if kind != "ingredient":
                raise DataError(f"{where}: only ingredient rules can replace class rules")
            for c in replaces:
                if c not in ingredients[target].classes:
                    raise DataError(f"{where}: replaces {c!r}, which {target} is not a member of")
        rule = Rule(
            **_advice(body, where),
            id=rid,
            target_kind=TargetKind(kind),
            target=target,
            hold_hours=float(hold) if hold is not None else None,
            hold_basis=_opt(body, "hold_basis", str, where),
            after_hours=float(after) if after is not None else None,
            route_severity=route_sev,
            replaces=tuple(replaces) if replaces is not None else None,
        )
        if kind in SPECIAL_TARGETS:
            if kind in special:
                raise DataError(f"{where}: only one rule may apply to '{kind}'")
            special[kind] = rule
        else:
            rules.append(rule)
    for kind, meaning in zip(
        SPECIAL_TARGETS,
        ("no known interaction", "not reviewed for ketamine", "the session medicine"),
        strict=True,
    ):
        if kind not in special:
            raise DataError(f"rules.toml: no rule with applies_to = '{kind}' ({meaning})")
    for cid, cls in classes.items():
        if cls.kind is ClassKind.INTERACTION and f"class:{cid}" not in seen_targets:
            raise DataError(f"rules.toml: interaction class {cid!r} has no rule")
    return tuple(rules), special


def _build_combinations(
    table: Mapping[str, Any],
    classes: Mapping[str, DrugClass],
    ingredients: Mapping[str, Ingredient],
) -> tuple[Combination, ...]:
    from ketcheck.kb import tables

    out: list[Combination] = []
    rows = tables.COMBINATIONS_FILE.check(table, "combinations.toml").get("combination", [])
    for i, body in enumerate(rows):
        where = _row_where("combinations.toml", "combination", i, body.get("id"))
        tables.COMBINATION.check(body, where)
        cid = body["id"]
        members = _str_list(body, "members", where)
        require = _str_list(body, "require", where)
        for m in (*members, *require):
            kind, _, target = m.partition(":")
            known = classes if kind == "class" else ingredients if kind == "ingredient" else None
            if known is None or target not in known:
                raise DataError(f"{where}: unknown member {m!r}")
        if not _str_list(body, "references", where):
            raise DataError(f"{where}: needs at least one reference")
        min_distinct = _need(body, "min_distinct", int, where)
        out.append(
            Combination(
                **_advice(body, where),
                id=cid,
                members=tuple(members),
                min_distinct=min_distinct,
                require=tuple(require),
                duplicate_therapy=bool(_opt(body, "duplicate_therapy", bool, where)),
            )
        )
    return tuple(out)


def _build_matching(table: Mapping[str, Any]) -> Matching:
    from ketcheck.kb import tables

    tables.MATCHING.check(table, "matching.toml")
    return Matching(
        min_letters=int(table.get("min_letters", 5)),
        threshold=float(table.get("threshold", 85.0)),
        margin=float(table.get("margin", 6.0)),
        lookalike_floor=float(table.get("lookalike_floor", 60.0)),
        lookalike_window=float(table.get("lookalike_window", 15.0)),
        suggest_floor=float(table.get("suggest_floor", 70.0)),
        scorer=str(table.get("scorer", "ratio")),
        limit=int(table.get("limit", 12)),
    )


_PACK_BRAND = re.compile(r"\[([^\[\]]+)\]\s*$")


def _pack_brands(rows: list[list[str]]) -> dict[str, tuple[str, ...]]:
    """Brand names of RxNorm packs: "Errin 28 Day" and "Errin 28 Day Pack" (the older display
    Synthea writes), kept only where every pack agrees. Never the bare brand: many are given
    names ("Heather", "Camila") that a line may hold for another reason."""
    found: dict[str, set[tuple[str, ...]]] = {}
    for row in rows:
        if len(row) <= 4 or row[1] != "BPCK":
            continue
        brand = _PACK_BRAND.search(row[4])
        if brand is None:
            continue
        ings = tuple(sorted(row[2].split("+")))
        full = brand[1].strip()
        for name in (full, f"{full} Pack"):
            found.setdefault(name, set()).add(ings)
    return {name: sets.pop() for name, sets in found.items() if len(sets) == 1}


def _build_shared_names(
    table: Mapping[str, Any], ingredients: Mapping[str, Ingredient]
) -> list[tuple[str, list[tuple[str, ...]]]]:
    """Names that mean different drugs in different countries, each with all its meanings."""
    from ketcheck.kb import tables

    out: list[tuple[str, list[tuple[str, ...]]]] = []
    for i, body in enumerate(
        tables.SHARED_NAMES_FILE.check(table, "shared-names.toml").get("name", [])
    ):
        where = f"shared-names.toml name #{i + 1}"
        tables.SHARED_NAME.check(body, where)
        meanings: list[tuple[str, ...]] = []
        for ings in body["meanings"]:
            if not isinstance(ings, list) or not ings or any(x not in ingredients for x in ings):
                raise DataError(f"{where}: meanings: {ings!r} must list known ingredient ids")
            meanings.append(tuple(sorted(ings)))
        if len(set(meanings)) < 2:
            raise DataError(f"{where}: meanings: a shared name needs at least two meanings")
        out.append((body["name"], meanings))
    return out


def _build_lookalikes(
    table: Mapping[str, Any],
    entries: Mapping[str, list[NameEntry]],
    sets: Sequence[tuple[str, ...]],
) -> dict[str, tuple[str, ...]]:
    from ketcheck.kb import tables

    partners: dict[str, set[str]] = {}
    for i, body in enumerate(
        tables.LOOKALIKES_FILE.check(table, "lookalikes.toml").get("pair", [])
    ):
        where = f"lookalikes.toml pair #{i + 1}"
        tables.LOOKALIKE.check(body, where)
        names = _str_list(body, "names", where)
        if len(names) < 2:
            raise DataError(f"{where}: a look-alike entry needs at least two names")
        groups: list[set[str]] = []
        for n in names:
            hits = entries.get(name_key(n))
            groups.append({ing for h in hits for ing in sets[h.set_index]} if hits else set())
        for a_idx, a in enumerate(groups):
            for b_idx, b in enumerate(groups):
                if a_idx == b_idx:
                    continue
                for ing in a:
                    partners.setdefault(ing, set()).update(b - a)
    return {k: tuple(sorted(v)) for k, v in partners.items() if v}


def unresolved_lookalikes(kb_sources: Mapping[str, Any], lexicon: Lexicon) -> list[str]:
    """Look-alike names the lexicon does not know exactly (a data test keeps this empty)."""
    missing = []
    for body in kb_sources.get("lookalikes.toml", {}).get("pair", []):
        for n in body.get("names", []):
            if not lexicon.exact(name_key(n)):
                missing.append(n)
    return missing
