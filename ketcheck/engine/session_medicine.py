"""Tell the session's own ketamine or esketamine on the list apart from a second supply."""

from __future__ import annotations

from ketcheck.model import Medication, Route

# The drug each session route gives: an intranasal session is Spravato (esketamine); every
# other route gives racemic ketamine.
SESSION_DRUG = {
    Route.INTRANASAL: "esketamine",
    Route.IV: "ketamine",
    Route.IM: "ketamine",
    Route.ORAL: "ketamine",
    Route.SUBLINGUAL: "ketamine",
}

# Words on an entry that say how it is taken, and the session routes they fit.
_CLINIC = frozenset({Route.IV, Route.IM})
_MOUTH = frozenset({Route.ORAL, Route.SUBLINGUAL})
_ROUTE_WORDS: dict[str, frozenset[Route]] = {
    **dict.fromkeys(("iv", "intravenous", "infusion", "drip"), _CLINIC),
    **dict.fromkeys(("im", "intramuscular", "injection", "injectable", "inj", "vial"), _CLINIC),
    **dict.fromkeys(
        (
            "sl",
            "sublingual",
            "buccal",
            "troche",
            "troches",
            "lozenge",
            "lozenges",
            "rdt",
            "odt",
            "oral",
            "po",
            "tablet",
            "tablets",
            "tab",
            "tabs",
            "capsule",
            "capsules",
            "solution",
            "liquid",
        ),
        _MOUTH,
    ),
    **dict.fromkeys(("nasal", "intranasal", "spray"), frozenset({Route.INTRANASAL})),
}


def entry_routes(med: Medication) -> frozenset[Route]:
    """The session routes an entry's own route and form words fit (empty when it names none)."""
    p = med.parsed
    routes: frozenset[Route] = frozenset()
    for word in (*p.route, *p.form, *p.strength):
        routes |= _ROUTE_WORDS.get(word.lower().strip("."), frozenset())
    return routes


def is_session_medicine(med: Medication, route: Route) -> bool:
    """True when the entry is the drug this session gives, by a route that fits the session.

    Spravato on the list at an intranasal session, or ketamine at an IV/IM/oral/sublingual
    session, is the session medicine. An entry whose words name another route (troches or
    lozenges at an IV session, a nasal ketamine spray) is a second supply and stays a duplicate.
    """
    if med.ingredients != (SESSION_DRUG[route],):
        return False
    routes = entry_routes(med)
    return not routes or route in routes
