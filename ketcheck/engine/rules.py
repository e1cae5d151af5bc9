"""Apply the rules to resolved medications: one finding per rule and ingredient."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from functools import cache
from typing import Any

from ketcheck.engine.session_medicine import is_session_medicine
from ketcheck.kb.knowledge import SPECIAL_TARGETS, Combination, KnowledgeBase, Rule, TargetKind
from ketcheck.kb.protocol import Protocol
from ketcheck.model import Advice, Finding, FindingKind, Hold, Medication, Route, Severity, Source

# What `Finding.applies_via` says for a combination (a class id or an ingredient id otherwise).
VIA_COMBINATION = "combination"
_ADVICE_FIELDS = tuple(f.name for f in fields(Advice))
# The finding kind each special rule reports as; every other rule is an interaction.
FINDING_KIND = {
    TargetKind.DEFAULT: FindingKind.NO_KNOWN_INTERACTION,
    TargetKind.NOT_REVIEWED: FindingKind.NOT_REVIEWED,
    TargetKind.SESSION_MEDICINE: FindingKind.SESSION_MEDICINE,
}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)  # made per run, never compared
class Applied:
    """A rule that applies to an ingredient, and the class it came through (None: its own rule)."""

    rule: Rule
    via: str | None = None


def rules_for(kb: KnowledgeBase, ingredient: str) -> list[Applied]:
    """Every rule that applies to an ingredient: its own rules replace the class rules they name."""
    info = kb.ingredients.get(ingredient)
    if info is None:
        return []
    own = kb.rule_for(f"ingredient:{ingredient}")
    replaced: set[str] = set()
    if own is not None:
        replaced = set(own.replaces) if own.replaces is not None else set(info.classes)
    applied = [Applied(rule=own)] if own is not None else []
    for cid in info.classes:
        if cid in replaced:
            continue
        rule = kb.rule_for(f"class:{cid}")
        if rule is not None:
            applied.append(Applied(rule=rule, via=cid))
    return applied


@cache
def _rules_memo(kb: KnowledgeBase) -> dict[str, list[Applied]]:
    return {}  # rules_for per ingredient, worked out once per knowledge base (read-only lists)


def evaluate(
    kb: KnowledgeBase,
    medications: Sequence[Medication],
    *,
    route: Route,
    protocol: Protocol,
) -> list[Finding]:
    """Pairwise findings (each drug with ketamine), merged across entries naming the same drug."""
    special = [is_session_medicine(m, route) for m in medications]
    session = [m for m, s in zip(medications, special, strict=True) if s]
    others = [m for m, s in zip(medications, special, strict=True) if not s]
    if _apart(medications):
        # No two entries share a name or a drug: each entry's findings are its own, in order.
        return [
            f
            for meds, is_session in ((session, True), (others, False))
            for m in meds
            for f in _entry_findings(kb, m.input, m.ingredients, is_session, route, protocol)
        ]
    inputs_of: dict[str, dict[str, None]] = {}
    session_inputs: dict[str, dict[str, None]] = {}
    for meds, target in ((session, session_inputs), (others, inputs_of)):
        for med in meds:
            for ing in med.ingredients:
                target.setdefault(ing, {})[med.input] = None
    findings: list[Finding] = [
        Finding(
            **_template(Applied(rule=kb.session_rule), ing, route, protocol), inputs=tuple(inputs)
        )
        for ing, inputs in session_inputs.items()
    ]
    for ing, inputs in inputs_of.items():
        findings.extend(_made(kb, ing, tuple(inputs), route, protocol))
    return _merge_same_entries(findings)


def _apart(medications: Sequence[Medication]) -> bool:
    """Whether no two of these entries have the same text or name the same ingredient."""
    texts = {m.input for m in medications}
    ingredients = [ing for m in medications for ing in m.ingredients]
    return len(texts) == len(medications) and len(set(ingredients)) == len(ingredients)


def _entry_findings(
    kb: KnowledgeBase,
    text: str,
    ingredients: tuple[str, ...],
    session: bool,
    route: Route,
    protocol: Protocol,
) -> tuple[Finding, ...]:
    """What `evaluate` gives an entry that is alone in naming its ingredients; made once, kept."""
    kept = _kept_entries(kb)
    key = (text, ingredients, session, route, id(protocol))
    hit = kept.get(key)
    if hit is not None and hit[0] is protocol:
        kept.move_to_end(key)
        return hit[1]
    inputs = (text,)
    if session:
        applied = Applied(rule=kb.session_rule)
        made = [
            Finding(**_template(applied, ing, route, protocol), inputs=inputs)
            for ing in ingredients
        ]
    else:
        made = [
            Finding(**t, inputs=inputs)
            for ing in ingredients
            for t in _chosen(kb, ing, route, protocol)
        ]
    found = kept[key] = (protocol, tuple(_merge_same_entries(made) if len(made) > 1 else made))
    while len(kept) > ENTRIES_KEPT:
        kept.popitem(last=False)
    return found[1]


# Entries whose findings are kept (a batch meets the same lines again and again); a bound that
# fills within the first few thousand rows, so memory stays flat after them.
ENTRIES_KEPT = 2048


@cache
def _kept_entries(
    kb: KnowledgeBase,
) -> OrderedDict[
    tuple[str, tuple[str, ...], bool, Route, int], tuple[Protocol, tuple[Finding, ...]]
]:
    return OrderedDict()


# Findings are values: an ingredient named by the same entries (a line many lists share) gets
# the same findings, made once and kept, the least recently used dropped first.
FINDINGS_KEPT = 2048


def _made(
    kb: KnowledgeBase, ing: str, inputs: tuple[str, ...], route: Route, protocol: Protocol
) -> tuple[Finding, ...]:
    kept = _kept(kb)
    key = (ing, inputs, route, id(protocol))
    hit = kept.get(key)
    if hit is not None and hit[0] is protocol:
        kept.move_to_end(key)
        return hit[1]
    made = tuple(Finding(**t, inputs=inputs) for t in _chosen(kb, ing, route, protocol))
    kept[key] = (protocol, made)
    while len(kept) > FINDINGS_KEPT:
        kept.popitem(last=False)
    return made


@cache
def _kept(
    kb: KnowledgeBase,
) -> OrderedDict[tuple[str, tuple[str, ...], Route, int], tuple[Protocol, tuple[Finding, ...]]]:
    return OrderedDict()


def _chosen(
    kb: KnowledgeBase, ing: str, route: Route, protocol: Protocol
) -> tuple[dict[str, Any], ...]:
    """The findings an ingredient gets, as fields without inputs; worked out once per route."""
    known = _choices(kb)
    key = (ing, route, id(protocol))
    hit = known.get(key)
    if hit is not None and hit[0] is protocol:
        return hit[1]
    memo = _rules_memo(kb)
    applied = memo.get(ing)
    if applied is None:
        applied = memo[ing] = rules_for(kb, ing)
    own = [_template(a, ing, route, protocol) for a in applied]
    real = [t for t in own if t["severity"] > Severity.NONE or t["hold"] is not None]
    info = kb.ingredients.get(ing)
    if info is not None and info.review is None:
        # Unknown is not safe: whatever rules apply are shown, and the gap is reported.
        chosen = [_template(Applied(rule=kb.not_reviewed_rule), ing, route, protocol), *real]
    elif real:
        chosen = real
    elif own:
        chosen = own[:1]
    else:
        chosen = [_template(Applied(rule=kb.default_rule), ing, route, protocol)]
    if len(known) >= CHOICES_KEPT:
        known.clear()
    known[key] = (protocol, tuple(chosen))
    return known[key][1]


# What each ingredient gets is worked out once per knowledge base, route and protocol (the
# protocol is checked by identity); bounded by ingredients × routes in use, restarted past this.
CHOICES_KEPT = 20_000


@cache
def _choices(
    kb: KnowledgeBase,
) -> dict[tuple[str, Route, int], tuple[Protocol, tuple[dict[str, Any], ...]]]:
    return {}


def _merge_same_entries(findings: list[Finding]) -> list[Finding]:
    """One finding when a rule fires for several ingredients of the same entries (Adderall)."""
    out: list[Finding] = []
    at: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for f in findings:
        places = at.setdefault((f.rule, f.inputs), [])
        for i in places:
            prev = out[i]
            if prev.severity == f.severity and prev.hold == f.hold:
                out[i] = replace(prev, ingredients=prev.ingredients + f.ingredients)
                break
        else:
            places.append(len(out))
            out.append(f)
    return out


def _template(
    applied: Applied, ingredient: str, route: Route, protocol: Protocol
) -> dict[str, Any]:
    """A finding's fields, all but its inputs."""
    rule = applied.rule
    severity = rule.severity_for(route)
    severity_source = Source.DATA
    override = protocol.severity_for(ingredient, applied.via, route)
    if override is not None and override != severity:
        severity, severity_source = override, Source.PROTOCOL
    hold: Hold | None = None
    hours = rule.hold_hours
    basis, source = rule.hold_basis or "", Source.DATA
    special = rule.target_kind in SPECIAL_TARGETS
    custom = None if special else protocol.hold_for(ingredient, applied.via)
    if custom is not None and custom != hours:
        hours = custom
        basis, source = f"clinic protocol ({protocol.name})", Source.PROTOCOL
    if hours is not None and hours > 0:
        hold = Hold(hours_before=hours, basis=basis, source=source, hours_after=rule.after_hours)
    return advice_of(rule) | {
        "severity": severity,
        "rule": rule.id,
        "kind": FINDING_KIND.get(rule.target_kind, FindingKind.INTERACTION),
        "ingredients": (ingredient,),
        "hold": hold,
        "applies_via": applied.via or ingredient,
        "severity_source": severity_source,
    }


def advice_of(advice: Advice) -> dict[str, Any]:
    """The advice a rule of any kind carries, as keywords for the `Finding` it produces."""
    return {name: getattr(advice, name) for name in _ADVICE_FIELDS}


def cumulative(
    kb: KnowledgeBase, medications: Sequence[Medication], *, protocol: Protocol
) -> list[Finding]:
    """Risks that only appear when drugs add up: stacked depressants, pressors, duplicates."""
    present: dict[str, dict[str, None]] = {}
    distinct = _distinct(medications)
    for text, ingredients in distinct:
        for ing in ingredients:
            present.setdefault(ing, {})[text] = None
    out: list[Finding] = []
    index = _combination_index(kb)
    # Only combinations that one of these ingredients belongs to can fire (or none need members):
    # each with its members present, in list order.
    members_of: dict[int, list[str]] = {number: [] for number in index.always}
    for ing in present:
        for number in index.of(ing):
            members_of.setdefault(number, []).append(ing)
    for number in sorted(members_of):
        combo = kb.combinations[number]
        members = members_of[number]
        # Agents are never more than members: most lists stop at the count.
        if len(members) < combo.min_distinct:
            continue
        if _agents(members, [ings for _, ings in distinct]) < combo.min_distinct:
            continue
        if any(not any(_member(kb, req, ing) for ing in present) for req in combo.require):
            continue
        inputs = tuple(dict.fromkeys(i for ing in members for i in present[ing]))
        out.append(_combined(kb, number, tuple(members), inputs))
    return out


def _combined(
    kb: KnowledgeBase, number: int, members: tuple[str, ...], inputs: tuple[str, ...]
) -> Finding:
    """The finding of combination `number` for these members and entries; made once, kept."""
    kept = _kept_combined(kb)
    key = (number, members, inputs)
    hit = kept.get(key)
    if hit is not None:
        kept.move_to_end(key)
        return hit
    combo = kb.combinations[number]
    made = kept[key] = Finding(
        **advice_of(combo),
        rule=combo.id,
        kind=FindingKind.COMBINED,
        ingredients=members,
        inputs=inputs,
        applies_via=VIA_COMBINATION,
        duplicate_therapy=combo.duplicate_therapy,
    )
    while len(kept) > FINDINGS_KEPT:
        kept.popitem(last=False)
    return made


@cache
def _kept_combined(
    kb: KnowledgeBase,
) -> OrderedDict[tuple[int, tuple[str, ...], tuple[str, ...]], Finding]:
    return OrderedDict()


@dataclass(slots=True, kw_only=True)
class _CombinationIndex:
    """For each ingredient, the combinations it is a member of (numbers into kb.combinations)."""

    kb: KnowledgeBase
    always: frozenset[int]
    by_ingredient: dict[str, frozenset[int]]

    def of(self, ingredient: str) -> frozenset[int]:
        """Combinations this ingredient belongs to; worked out once per ingredient."""
        hit = self.by_ingredient.get(ingredient)
        if hit is None:
            hit = self.by_ingredient[ingredient] = frozenset(
                n
                for n, combo in enumerate(self.kb.combinations)
                if _matches(self.kb, combo, ingredient, combo.members)
            )
        return hit


@cache
def _combination_index(kb: KnowledgeBase) -> _CombinationIndex:
    # Built once per knowledge base; bounded by the number of ingredients the base knows.
    always = frozenset(n for n, combo in enumerate(kb.combinations) if combo.min_distinct <= 0)
    return _CombinationIndex(kb=kb, always=always, by_ingredient={})


def _distinct(medications: Sequence[Medication]) -> list[tuple[str, tuple[str, ...]]]:
    """Each distinct (entry text, ingredients) once, in first-seen order: long lists repeat."""
    return list(dict.fromkeys((m.input, m.ingredients) for m in medications))


def _agents(members: Sequence[str], ingredient_sets: Sequence[tuple[str, ...]]) -> int:
    """Distinct agents among these ingredients; ingredients of one entry (a product) count once."""
    parent = {m: m for m in members}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ingredients in set(ingredient_sets):
        inside = [i for i in ingredients if i in parent]
        for other in inside[1:]:
            parent[root(other)] = root(inside[0])
    return len({root(m) for m in members})


def _matches(
    kb: KnowledgeBase, combo: Combination, ingredient: str, members: Sequence[str]
) -> bool:
    return any(_member(kb, m, ingredient) for m in members)


def _member(kb: KnowledgeBase, member: str, ingredient: str) -> bool:
    kind, _, target = member.partition(":")
    if kind == "ingredient":
        return ingredient == target
    info = kb.ingredients.get(ingredient)
    return info is not None and target in info.classes
