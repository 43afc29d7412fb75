"""A proposal's reason and its alternatives in the page's language, rendered from the
structured facts the solver stores (:data:`solver.explain.REASON_FACTS`,
:class:`workflow.proposals.Alternative`), never from the English sentence.

``reason_text(proposal, "en", names)`` gives exactly the solver's English ``reason``;
``reason_text(proposal, "da", names)`` the same facts in Danish (dates ``27. nov.``, a decimal
comma, Danish procedure words). Runs stored before the facts existed have only the English
``reason``, which is then returned as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from capacity.vocabulary import DANISH_LABELS
from workflow.proposals import Alternative, Proposal

#: What the functions read: a stored record or its JSON mapping.
ProposalLike = Proposal | Mapping[str, Any]
AlternativeLike = Alternative | Mapping[str, Any]

#: Danish month abbreviations as dates are written (``27. nov.``, ``3. maj``).
MONTHS_DA: Final = (
    "jan.",
    "feb.",
    "mar.",
    "apr.",
    "maj",
    "jun.",
    "jul.",
    "aug.",
    "sep.",
    "okt.",
    "nov.",
    "dec.",
)
MONTHS_EN: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

#: The solver's English procedure words (solver.explain.PROCEDURE_WORDS).
PROCEDURE_EN: Final = {
    "pre_examination": "pre-examination",
    "surgery": "surgery",
    "chemotherapy": "chemotherapy",
    "radiotherapy": "radiotherapy",
}

#: Policy categories in words, for an alternative's facts.
CATEGORY_WORDS: Final = {
    "da": {
        "keep": "den nuværende booking",
        "home_department": "hjemafdelingen",
        "public_home_region": "offentlig i hjemregionen",
        "public_other_region": "i en anden region",
        "private": "et privathospital",
        "foreign": "i udlandet",
    },
    "en": {
        "keep": "the current booking",
        "home_department": "the home department",
        "public_home_region": "public in the home region",
        "public_other_region": "in another region",
        "private": "a private hospital",
        "foreign": "abroad",
    },
}

_WORDS: Final[dict[str, dict[str, str]]] = {
    "da": {
        "placed": "{dept} den {date}, {km}: {deadline}",
        "keep": "Nuværende booking bevares: {placed}",
        "home": "Hjemafdeling: {placed}",
        "paused": "fristen er sat på pause ({why})",
        "no_deadline": "ingen frist",
        "meets": "overholder fristen {deadline}",
        "late_one": "1 dag efter fristen {deadline}",
        "late_n": "{n} dage efter fristen {deadline}",
        "not_offered": "hjemafdelingen {home} tilbyder ikke {proc}",
        "beyond_limit": "hjemafdelingen {home} ligger ud over patientens maksimale rejseafstand",
        "no_slot": "hjemafdelingen {home} har ingen ledig tid til {proc} i planlægningsperioden",
        "no_slot_before_deadline": (
            "hjemafdelingen {home} har først ledig tid til {proc} den {first} (efter fristen)"
        ),
        "taken": (
            "i hjemafdelingen {home} er alle tider frem til fristen optaget af andre patienter"
        ),
        "deadline_passed": "; fristen var allerede overskredet før i dag",
        "pushes_another": (
            "; ingen mulig tid overholder fristen uden at skubbe en anden patient til senere"
        ),
        "declined_both": "; privat og udland fravalgt af patienten",
        "declined_private": "; privat fravalgt af patienten",
        "declined_foreign": "; udland fravalgt af patienten",
        "what": "{proc} ({collaboration})",
        "within": " inden for {km}",
        "unassigned_no_department": (
            "Ingen afdeling har en ledig tid til {what} på eller efter den tidligste dato{within}"
            " (blandt de udbydertyper, patienten accepterer)"
        ),
        "unassigned_crowded": (
            "Alle mulige tider til {what} i planlægningsperioden er optaget af andre patienter "
            "(en tid til denne patient ville efterlade en anden uden tid); henvis til "
            "Sundhedsstyrelsen eller forlæng planlægningsperioden"
        ),
        # alternatives
        "alternative": "{dept} den {date}, {km}: {why}",
        "leaves_one": "ville efterlade 1 anden patient uden tid",
        "leaves_n": "ville efterlade {n} andre patienter uden tid",
        "breaches_one": "ville give 1 fristoverskridelse mere ({days} dage for sent i alt)",
        "breaches_n": "ville give {n} fristoverskridelser mere ({days} dage for sent i alt)",
        "days_one": "ville give 1 dag mere for sent i alt",
        "days_n": "ville give {n} dage mere for sent i alt",
        "booking_kept": "den nuværende booking bevares",
        "category": "den er {category}",
        "further": "den er {km} længere væk",
        "lower": "den står lavere efter politikken (senere dato, pris eller kategori)",
        "policy_only": "{facts} (fristerne overholdes begge steder)",
    },
    "en": {
        "placed": "{dept} on {date}, {km}: {deadline}",
        "keep": "Current booking kept: {placed}",
        "home": "Home department: {placed}",
        "paused": "clock paused ({why})",
        "no_deadline": "clock paused ({why})",
        "meets": "meets deadline {deadline}",
        "late_one": "1 day after deadline {deadline}",
        "late_n": "{n} days after deadline {deadline}",
        "not_offered": "home department {home} does not offer {proc}",
        "beyond_limit": "home department {home} is beyond the patient's travel limit",
        "no_slot": "home department {home} has no free {proc} slot in the horizon",
        "no_slot_before_deadline": (
            "home department {home} has no free {proc} slot before {first} (after the deadline)"
        ),
        "taken": (
            "home department {home}'s slots up to the deadline are all taken by other patients"
        ),
        "deadline_passed": "; the deadline had passed before today",
        "pushes_another": (
            "; no eligible slot meets the deadline without pushing another patient later"
        ),
        "declined_both": "; private and foreign declined by patient",
        "declined_private": "; private declined by patient",
        "declined_foreign": "; abroad declined by patient",
        "what": "{collaboration} {proc}",
        "within": " within {km}",
        "unassigned_no_department": (
            "No department with a free {what} slot on or after the earliest date{within}"
            " (given accepted provider types)"
        ),
        "unassigned_crowded": (
            "Every eligible {what} slot in the horizon is taken by other patients (placing this "
            "patient would leave another without a slot); refer to Sundhedsstyrelsen or extend "
            "the horizon"
        ),
        "alternative": "{dept} on {date}, {km}: {why}",
        "leaves_one": "it would leave 1 other patient without any slot",
        "leaves_n": "it would leave {n} other patients without any slot",
        "breaches_one": "it would mean 1 more deadline breach ({days} days late in all)",
        "breaches_n": "it would mean {n} more deadline breaches ({days} days late in all)",
        "days_one": "it would add 1 day late in all",
        "days_n": "it would add {n} days late in all",
        "booking_kept": "the current booking is kept",
        "category": "it is {category}",
        "further": "it is {km} further",
        "lower": "it ranks lower on the policy (later date, price or category)",
        "policy_only": "{facts} (deadlines are met either way)",
    },
}

#: The English words of the paused clocks (the solver's ``reason``).
_PAUSED_EN: Final = {"patient_wish": "patient's wish"}


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "da"


def _get(record: ProposalLike | AlternativeLike, field: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(field)
    return getattr(record, field, None)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    number = float(value)
    return None if number != number else number


def date_text(value: str | dt.date | None, lang: str) -> str:
    """A date as a reason writes it: ``27. nov.`` in Danish, ``27 Nov`` in English."""
    if not value:
        return ""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    if _lang(lang) == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]}"
    return f"{day.day}. {MONTHS_DA[day.month - 1]}"


def km_text(value: float | None, lang: str, *, decimals: int = 0) -> str:
    """A distance: ``12 km``, or with ``decimals`` ``12,3 km`` (Danish) / ``12.3 km``."""
    if value is None:
        return ""
    if decimals == 0:
        return f"{round(value)} km"
    text = f"{value:.{decimals}f}"
    return (text.replace(".", ",") if _lang(lang) == "da" else text) + " km"


def procedure_text(procedure: str | None, lang: str) -> str:
    """The procedure's word: ``operation`` (da), ``surgery`` (en)."""
    code = _text(procedure)
    if _lang(lang) == "en":
        return PROCEDURE_EN.get(code, code)
    return DANISH_LABELS.get(code, code.replace("_", " "))


def _collaboration(code: str, lang: str) -> str:
    if _lang(lang) == "en":
        return code.replace("_", " ")
    return DANISH_LABELS.get(code, code.replace("_", " "))


def _deadline_part(proposal: ProposalLike, lang: str) -> str:
    w = _WORDS[_lang(lang)]
    status = _text(_get(proposal, "deadline_status"))
    deadline = _text(_get(proposal, "deadline"))
    if status != "active" or not deadline:
        why = status.replace("paused_", "")
        if _lang(lang) == "en":
            return w["paused"].format(why=_PAUSED_EN.get(why, why))
        if not status.startswith("paused_"):
            return w["no_deadline"]
        label = DANISH_LABELS.get(status, why)  # "pause (patientens ønske)"
        return w["paused"].format(why=label.removeprefix("pause (").removesuffix(")"))
    late = int(_get(proposal, "days_late") or 0)
    when = date_text(deadline, lang)
    if late <= 0:
        return w["meets"].format(deadline=when)
    if late == 1:
        return w["late_one"].format(deadline=when)
    return w["late_n"].format(n=late, deadline=when)


def _unassigned_text(proposal: ProposalLike, code: str, lang: str) -> str:
    w = _WORDS[_lang(lang)]
    what = w["what"].format(
        proc=procedure_text(_get(proposal, "procedure"), lang),
        collaboration=_collaboration(_text(_get(proposal, "collaboration")), lang),
    )
    if code == "unassigned_crowded":
        return w["unassigned_crowded"].format(what=what)
    limit = _number(_get(proposal, "travel_limit_km"))
    within = "" if limit is None else w["within"].format(km=km_text(limit, lang))
    return w["unassigned_no_department"].format(what=what, within=within)


def reason_text(
    proposal: ProposalLike, lang: str = "da", names: Mapping[str, str] | None = None
) -> str:
    """The proposal's reason in ``lang`` (``da`` unless ``en``) from its structured facts.

    ``proposal`` is a :class:`workflow.proposals.Proposal` or its JSON mapping; ``names``
    maps department ids to readable names (``Afdeling, Hospital``; an id not in it is
    written as it is). A proposal without ``reason_code`` (a run stored before the facts
    existed) gives its stored English ``reason``.
    """
    code = _text(_get(proposal, "reason_code"))
    if not code:
        return _text(_get(proposal, "reason"))
    names = names or {}
    lang = _lang(lang)
    w = _WORDS[lang]
    if code.startswith("unassigned"):
        return _unassigned_text(proposal, code, lang)
    department = _text(_get(proposal, "department_id"))
    placed = w["placed"].format(
        dept=names.get(department, department),
        date=date_text(_get(proposal, "date"), lang),
        km=km_text(_number(_get(proposal, "travel_km")), lang),
        deadline=_deadline_part(proposal, lang),
    )
    late = w.get(_text(_get(proposal, "late_cause")), "")
    if code == "keep":
        text = w["keep"].format(placed=placed) + late
    elif code == "home":
        text = w["home"].format(placed=placed) + late
    else:
        home_id = _text(_get(proposal, "home_department_id"))
        situation = _text(_get(proposal, "home_situation")) or "taken"
        home = w[situation].format(
            home=names.get(home_id, home_id),
            proc=procedure_text(_get(proposal, "procedure"), lang),
            first=date_text(_get(proposal, "home_first_date"), lang),
        )
        declined = _text(_get(proposal, "declined"))
        text = placed + "; " + home + late + (w[f"declined_{declined}"] if declined else "")
    return text.replace("  ", " ")


def why_not_text(alternative: AlternativeLike, lang: str = "da") -> str:
    """What choosing ``alternative`` (an :class:`~workflow.proposals.Alternative` or its
    mapping) would cost, in ``lang``: another patient without a slot, more breaches and
    days late, or only the policy's reasons."""
    lang = _lang(lang)
    w = _WORDS[lang]
    code = _text(_get(alternative, "why_not"))
    unassigned = int(_get(alternative, "extra_unassigned") or 0)
    breaches = int(_get(alternative, "extra_breaches") or 0)
    days = int(_get(alternative, "extra_days_late") or 0)
    if code == "leaves_unassigned":
        return w["leaves_one"] if unassigned == 1 else w["leaves_n"].format(n=unassigned)
    if code == "more_breaches":
        key = "breaches_one" if breaches == 1 else "breaches_n"
        return w[key].format(n=breaches, days=f"{days:+d}")
    if code == "more_days_late":
        return w["days_one"] if days == 1 else w["days_n"].format(n=days)
    facts = []
    category = _text(_get(alternative, "category"))
    if _get(alternative, "booking_kept"):
        facts.append(w["booking_kept"])
    elif _get(alternative, "category_worse") and category in CATEGORY_WORDS[lang]:
        facts.append(w["category"].format(category=CATEGORY_WORDS[lang][category]))
    further = _number(_get(alternative, "further_km")) or 0.0
    if further > 0.05:
        facts.append(w["further"].format(km=km_text(further, lang)))
    if not facts:
        facts.append(w["lower"])
    return w["policy_only"].format(facts="; ".join(facts))


def alternative_text(
    alternative: AlternativeLike, lang: str = "da", names: Mapping[str, str] | None = None
) -> str:
    """One alternative in a line: department, date, km (one decimal) and what it would cost.

    ``Aarhus Universitetshospital den 27. nov., 130,4 km: ville give 1 fristoverskridelse
    mere (+6 dage for sent i alt)``.
    """
    names = names or {}
    department = _text(_get(alternative, "department_id"))
    return _WORDS[_lang(lang)]["alternative"].format(
        dept=names.get(department, department),
        date=date_text(_get(alternative, "date"), lang),
        km=km_text(_number(_get(alternative, "travel_km")), lang, decimals=1),
        why=why_not_text(alternative, lang),
    )
