"""Explain one name (for `ketcheck info`) and summarise the knowledge base (`data stats`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ketcheck.engine.rules import rules_for
from ketcheck.kb.knowledge import SOURCE_FDA, SPECIAL_TARGETS, KnowledgeBase, Rule
from ketcheck.model import (
    Ambiguous,
    Candidate,
    ClassKind,
    Parsed,
    Resolution,
    Resolved,
    ReviewOutcome,
    Route,
    Unresolved,
)
from ketcheck.render.literal import inert


def describe(
    kb: KnowledgeBase, typed: str, parsed: Parsed, resolution: Resolution, route: Route
) -> dict[str, Any]:
    """How a typed name resolves, and every rule that applies to its ingredients."""
    out: dict[str, Any] = {"input": typed, "parsed_name": parsed.name, "route": route.value}
    match resolution:
        case Resolved():
            out.update(
                status="resolved",
                matched=resolution.matched,
                method=resolution.method.value,
                score=resolution.score,
                name_kind=resolution.name_kind,
                source=resolution.source,
            )
            ingredients: list[dict[str, Any]] = []
            for ing in resolution.ingredients:
                info = kb.ingredients[ing]
                applied = rules_for(kb, ing)
                ingredients.append(
                    {
                        "id": ing,
                        "rxcui": info.rxcui,
                        "classes": [
                            {"id": c, "label": kb.classes[c].label, "kind": kb.classes[c].kind}
                            for c in info.classes
                        ],
                        "lookalikes": list(kb.lexicon.lookalike_partners((ing,))),
                        "review": (
                            {"outcome": info.review.outcome.value, "basis": info.review.basis}
                            if info.review is not None
                            else None
                        ),
                        "rules": [_rule_dict(a.rule, a.via, route) for a in applied]
                        or [
                            _rule_dict(
                                kb.default_rule if info.review else kb.not_reviewed_rule,
                                None,
                                route,
                            )
                        ],
                    }
                )
            out["ingredients"] = ingredients
        case Ambiguous():
            out.update(
                status="ambiguous",
                reason=resolution.reason,
                candidates=_candidates(resolution.candidates),
            )
        case Unresolved():
            out.update(
                status="unresolved",
                reason=resolution.reason,
                candidates=_candidates(resolution.suggestions),
            )
    return out


def _candidates(candidates: tuple[Candidate, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "ingredients": list(c.ingredients),
            "classes": list(c.classes),
            "score": c.score,
        }
        for c in candidates
    ]


def _rule_dict(rule: Rule, via: str | None, route: Route) -> dict[str, Any]:
    shown = f"class {via}" if via else "ingredient"
    return {
        "rule": rule.id,
        "via": rule.target_kind.value if rule.target_kind in SPECIAL_TARGETS else shown,
        "severity": rule.severity_for(route).label,
        "route_severity": {r.value: s.label for r, s in rule.route_severity.items()},
        "effects": [e.value for e in rule.effects],
        "effect": rule.effect,
        "management": rule.management,
        "hold_hours": rule.hold_hours,
        "hold_basis": rule.hold_basis,
        "evidence": rule.evidence,
        "references": list(rule.references),
    }


def describe_text(d: dict[str, Any]) -> str:
    """The `info` detail as plain text for a terminal."""
    lines = [f"Input:   {inert(d['input'])}"]
    if d["status"] != "resolved":
        lines.append(f"Status:  {d['status']} — {inert(d['reason'])}")
        for c in d.get("candidates", []):
            lines.append(
                f"  did you mean {inert(c['name'])} = {', '.join(c['ingredients'])} "
                f"({', '.join(c['classes']) or 'no interaction class'}; score {c['score']:.0f})?"
            )
        return "\n".join(lines) + "\n"
    mark = "≈ " if d["method"] == "fuzzy" else ""
    lines.append(
        f"Matched: {mark}{inert(d['matched'])} ({d['name_kind']}, {d['method']}, "
        f"score {d['score']:.0f}, source {d['source']})"
    )
    for ing in d["ingredients"]:
        classes = ", ".join(f"{c['id']} ({c['label']})" for c in ing["classes"]) or "none"
        lines += [
            "",
            f"Ingredient: {ing['id']}" + (f"  RxCUI {ing['rxcui']}" if ing["rxcui"] else ""),
            f"Classes:    {classes}",
        ]
        if ing["lookalikes"]:
            lines.append(f"Look-alikes: {', '.join(ing['lookalikes'])}")
        review = ing["review"]
        lines.append(
            f"Review:     {review['outcome']} — {review['basis']}"
            if review
            else "Review:     NOT REVIEWED for ketamine (check by hand)"
        )
        for r in ing["rules"]:
            route_note = ""
            if r["route_severity"]:
                route_note = (
                    " (" + ", ".join(f"{k} {v}" for k, v in r["route_severity"].items()) + ")"
                )
            lines.append(
                f"  [{r['severity'].upper()}] rule {r['rule']} via {r['via']}{route_note}; "
                f"{'/'.join(r['effects'])}"
            )
            lines.append(f"    What happens: {r['effect']}")
            lines.append(f"    What to do:   {r['management']}")
            if r["hold_hours"]:
                lines.append(f"    Hold:         {r['hold_hours']:g} h before — {r['hold_basis']}")
            lines.append(f"    Evidence:     {r['evidence']}")
            lines.append(f"    References:   {'; '.join(r['references'])}")
    return "\n".join(lines) + "\n"


def stats(kb: KnowledgeBase) -> dict[str, int | str]:
    """Counts that show the knowledge base's scale and its review coverage."""
    entries = [e for es in kb.lexicon.names.values() for e in es]
    outcomes = [i.review.outcome if i.review else None for i in kb.ingredients.values()]
    unreviewed = [i.id for i in kb.ingredients.values() if i.review is None]
    reviewed = len(outcomes) - len(unreviewed)
    bases = Counter(
        i.review.basis.partition(":")[0] for i in kb.ingredients.values() if i.review is not None
    )
    shown = ", ".join(unreviewed[:12]) + (
        f" and {len(unreviewed) - 12} more" if len(unreviewed) > 12 else ""
    )
    return {
        "data_version": kb.version,
        "ingredients": len(kb.ingredients),
        "ingredients_with_interaction_class": sum(
            any(kb.classes[c].kind is ClassKind.INTERACTION for c in i.classes)
            for i in kb.ingredients.values()
        ),
        "classes": len(kb.classes),
        "interaction_classes": sum(c.kind is ClassKind.INTERACTION for c in kb.classes.values()),
        "rules": len(kb.rules) + 3,
        "combination_rules": len(kb.combinations),
        "names": len(kb.lexicon.names),
        "names_curated": sum(e.source != SOURCE_FDA for e in entries),
        "names_generated_fda": sum(e.source == SOURCE_FDA for e in entries),
        "combination_products": sum(len(s) > 1 for s in kb.lexicon.sets),
        "lookalike_ingredients": len(kb.lexicon.partners),
        "reviewed": reviewed,
        "reviewed_interaction": sum(o is ReviewOutcome.INTERACTION for o in outcomes),
        "reviewed_no_interaction": sum(o is ReviewOutcome.NO_INTERACTION for o in outcomes),
        "review_top_bases": ", ".join(f"{b} {n}" for b, n in bases.most_common(10)),
        "not_reviewed": len(unreviewed),
        "review_coverage": f"{100 * reviewed / max(len(outcomes), 1):.1f}%",
        "not_reviewed_ingredients": shown or "none",
        "rxnorm_codes": len(kb.rxnorm.codes),
        "ingredients_with_rxcui": sum(bool(i.rxcui) for i in kb.ingredients.values()),
    }
