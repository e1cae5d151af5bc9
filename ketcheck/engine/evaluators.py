"""The rule kinds a check applies: each turns the medications into findings on its own.

A new rule kind (conditions, doses) is one function with the `Evaluator` signature, in its own
module, added to `EVALUATORS`; the check, the schedule and the exit policy need no change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ketcheck.engine.rules import cumulative, evaluate
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.model import Finding, Medication
from ketcheck.options import CheckOptions

# (knowledge base, each distinct medication once, the check's options) -> findings. Pure.
Evaluator = Callable[[KnowledgeBase, Sequence[Medication], CheckOptions], list[Finding]]


def interactions(
    kb: KnowledgeBase, medications: Sequence[Medication], options: CheckOptions
) -> list[Finding]:
    """Each drug with ketamine: its own rule, its classes' rules, or "no known interaction"."""
    return evaluate(kb, medications, route=options.effective_route, protocol=options.protocol)


def combinations(
    kb: KnowledgeBase, medications: Sequence[Medication], options: CheckOptions
) -> list[Finding]:
    """Risks that appear only when several drugs on the list add up."""
    return cumulative(kb, medications, protocol=options.protocol)


EVALUATORS: tuple[Evaluator, ...] = (interactions, combinations)
