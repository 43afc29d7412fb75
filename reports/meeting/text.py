"""The meeting's own words in Danish and English (the page's and the pack's), and how domain
values are named: Danish labels by default, the code in English."""

from __future__ import annotations

import re
from typing import Any, Final

from capacity.vocabulary import DANISH_LABELS, Action

LANGUAGES: Final = ("da", "en")

#: The page's and the pack's own words; domain values come from ``DANISH_LABELS``.
TEXT: dict[str, dict[str, str]] = {
    "da": {
        "title": "Forslag til samarbejdsmødet",
        # -- the agenda (reports.meeting.agenda) --
        "agenda": "Dagsorden",
        "agenda_title": "Til beslutning",
        "agenda_note": (
            "Henvisninger væk fra hjemafdelingen, forventede fristoverskridelser, bookinger der "
            "flyttes senere, afventende sager fra tidligere møder og patienter med handlepligt; "
            "mest presserende først (dage til frist, dage for sent)."
        ),
        "all_proposals": "Alle forslag",
        "why_on_agenda": "På dagsordenen fordi",
        "reason_breach": "fristoverskridelse",
        "reason_unassigned": "ingen tid",
        "reason_away": "henvisning",
        "reason_moved_later": "booking flyttes",
        "reason_held": "afventer",
        "reason_open_offer": "åbent tilbud",
        "reason_duty": "handlepligt",
        "rest_title": "Ikke på dagsordenen",
        "rest_kept": "nuværende booking beholdes",
        "rest_home": "ny tid i hjemafdelingen",
        "rest_moved_earlier": "flyttes tidligere i samme afdeling",
        "rest_other": "øvrige",
        "show_all": "Vis alle forslag",
        "show_agenda": "Vis dagsordenen",
        "per_sending": "Pr. hjemafdeling",
        "per_receiving": "Pr. modtagende afdeling",
        "count": "Antal",
        "page_of": "Side {page} af {pages}",
        "previous": "Forrige",
        "next": "Næste",
        "paused": "sat i bero",
        "days_to_deadline": "Dage til frist",
        "late_by": "{n} dage for sent",
        "late_by_one": "1 dag for sent",
        "alternatives": "Alternativer",
        "alternatives_none": "Ingen andre mulige tider.",
        "choose": "Vælg",
        "choose_label": "Vælg {department} {day} i stedet",
        "alt_unassigned": "ville efterlade {n} anden patient uden tid",
        "alt_breaches": "ville give {n} fristoverskridelse(r) mere ({days} dage for sent i alt)",
        "alt_days": "ville give {days} dage mere for sent i alt",
        "alt_further": "overholder fristen, men er {km} km længere væk",
        "alt_nearer_policy": "{km} km nærmere, men rangerer lavere efter politikken "
        "(senere dag, pris eller udbyder); fristen overholdes begge steder",
        "alt_policy": "overholder fristen; rangerer lavere efter politikken (senere dag, pris "
        "eller udbyder)",
        "slot_to": "Tiden gives til",
        "chosen_instead": "valgt i stedet",
        "stale_title": "Forældet kapacitet: {n} indmelding(er) er ældre end en uge.",
        "stale_note": "Forslagene bygger på ledige tider, der måske ikke findes mere; ring til "
        "afdelingen, før en henvisning accepteres.",
        "stale_declared": "senest indmeldt {when} ({days} dage siden)",
        "stale_more": "og {n} flere",
        "decided_by": "{decision} af {who}, {when}",
        "earlier_run": "kørsel {run}",
        "earlier_reject": "tidligere afvist: {department}",
        "fig_breaches": "Fristoverskridelser",
        "fig_days_late": "Dage for sent i alt",
        "fig_unassigned": "Uden tid",
        "fig_to_decide": "Til beslutning",
        "fig_agenda": "På dagsordenen",
        "fig_at_risk": "I risiko inden for {days} dage",
        "fig_paused": "Forløb sat i bero",
        "fig_away": "Henvisninger væk fra hjemafdelingen",
        "fig_travel": "Samlet afstand (km)",
        "fig_patients": "Patienter",
        "fig_decided": "Accepteret / afvist / afventer",
        "with_sharing": "Med deling",
        "current_practice": "Nuværende praksis",
        "difference": "Forskel",
        "by_region": "Pr. region",
        "details": "Detaljer om beregningen",
        "snapshot": "Datagrundlag",
        "review": "Forslag",
        "capacity": "Kapacitet",
        "at_risk": "I risiko",
        "collaboration": "Samarbejde",
        "week": "Uge",
        "run": "Kørsel",
        "today": "Dato",
        "patient": "Pseudonym",
        "procedure": "Ydelse",
        "deadline": "Frist",
        "booking": "Nuværende booking",
        "proposed": "Foreslået tid",
        "travel_km": "Afstand (km)",
        "provider_type": "Udbyder",
        "reason": "Begrundelse",
        "action": "Handling",
        "decision": "Beslutning",
        "days_late": "Dage for sent",
        "region": "Region",
        "department": "Afdeling",
        "sending": "Fra (hjemafdeling)",
        "receiving": "Til (modtagende afdeling)",
        "none": "ingen",
        "all": "alle",
        "unassigned_slot": "ingen ledig tid",
        "proposals": "forslag",
        "kpis": "Nøgletal",
        "kpi_patients": "Patienter",
        "kpi_unassigned": "Uden tid (første prioritet)",
        "kpi_breaches": "Fristoverskridelser (anden prioritet)",
        "kpi_days_late": "Dage for sent (tredje prioritet)",
        "kpi_actions": "Behold / flyt / ny",
        "kpi_out_of_region": "Uden for regionen / privat / udland",
        "kpi_travel": "Samlet afstand (km)",
        "kpi_certificate": "Bevis for bedste løsning på de tre første prioriteter",
        "method_single-pass": "ét gennemløb",
        "method_staged": "trinvis",
        "method_services": "{count} ydelser",
        "kpi_decided": "Accepteret / afvist / afventer",
        "kpi_at_risk": "I risiko inden for {days} dage",
        "accept": "accepteret",
        "reject": "afvist",
        "hold": "afventer",
        "capacity_title": "Ledige tider mod efterspørgsel pr. afdeling og uge",
        "capacity_note": (
            "Hver celle: ledige tider / efterspørgsel (patienter uden en booking inden fristen, "
            "efter hjemafdeling og fristens uge; overskredne frister tælles i første uge)."
        ),
        "free": "ledige",
        "demand": "efterspørgsel",
        "legend": "Forklaring",
        "scale_none": "ingen ledige tider og ingen efterspørgsel",
        "scale_surplus": "overskud (mindst 1,5 × efterspørgsel)",
        "scale_balanced": "dækket (1-1,5 ×)",
        "scale_short": "underskud (0,5-1 ×)",
        "scale_severe": "stort underskud (under 0,5 ×)",
        "at_risk_title": "Patienter i risiko",
        "at_risk_note": (
            "Aktive frister inden for {days} dage fra {today}, uden booking på eller før fristen."
        ),
        "days_left": "Dage til frist",
        "overdue": "overskredet",
        "no_patients": "Ingen patienter.",
        "generated": "Udskrevet",
        "certificate": "certifikat",
        "verified": "certifikat verificeret",
        "duty_to_act": "Handlepligt",
        "duty_title": "Handlepligt: kan ikke starte hjemme inden fristen",
        "duty_note": (
            "Patienter, som den nyeste kørsel ikke starter i hjemafdelingen senest på fristen, og "
            "som endnu ikke har fået et dokumenteret tilbud om henvisning; dage regnet fra {today}."
        ),
        "why": "Hvorfor",
        "why_moved": "flyttes til en anden afdeling",
        "why_late": "hjemafdelingens tid er efter fristen",
        "why_no_slot": "ingen ledig tid fundet",
        "days_n": "{n} dage",
        "days_one": "1 dag",
        "due_today": "fristen er i dag",
        "overdue_by_n": "overskredet med {n} dage",
        "overdue_by_one": "overskredet med 1 dag",
        "timeline": "Forløb",
        # the look-ahead capacity page (reports.meeting.capacity)
        "capview_title": "Ledige tider mod efterspørgsel pr. afdeling, ydelse og uge",
        "capview_note": (
            "Hver celle: ledige tider / kendt + forventet efterspørgsel. Kendt: patienter på "
            "listen nu uden en booking inden fristen, efter hjemafdeling, ydelse og fristens uge "
            "(overskredne frister tælles i første uge). Forventet: nye henvisninger fra ugens "
            "mandag efter de sædvanlige henvisningsrater, talt i fristens uge ({days} dage efter "
            "henvisningen), så de først ses fra tredje uge. Farven regnes på ledige mod kendt + "
            "forventet."
        ),
        "capview_scale": (
            "Henvisningsraterne er landstal fra referencedata (nye tilfælde om året), skaleret til "
            "den gemte ventelistes størrelse: {percent} % af den nationale."
        ),
        "capview_caption": "Kapacitet pr. afdeling og ydelse, uge {first} til {last}",
        "capview_known": "kendt",
        "capview_expected": "forventet",
        "capview_cell": "ledige / kendt + forventet",
        "capview_total": "i alt",
        "capview_holiday": "Helligdag",
        "capview_holiday_week": "Uge med helligdag",
        "capview_all_regions": "alle regioner",
        "capview_no_rows": "Ingen afdelinger tilbyder samarbejdets ydelser i den valgte region.",
    },
    "en": {
        "title": "Proposals for the collaboration meeting",
        # -- the agenda (reports.meeting.agenda) --
        "agenda": "Agenda",
        "agenda_title": "To decide",
        "agenda_note": (
            "Referrals away from the home department, projected breaches, bookings moved later, "
            "open items from earlier meetings and duty-to-act patients; most urgent first (days "
            "to the deadline, days late)."
        ),
        "all_proposals": "All proposals",
        "why_on_agenda": "On the agenda because",
        "reason_breach": "breach",
        "reason_unassigned": "no slot",
        "reason_away": "referral",
        "reason_moved_later": "booking moved",
        "reason_held": "on hold",
        "reason_open_offer": "open offer",
        "reason_duty": "duty to act",
        "rest_title": "Not on the agenda",
        "rest_kept": "current booking kept",
        "rest_home": "new slot at the home department",
        "rest_moved_earlier": "moved earlier at the same department",
        "rest_other": "other",
        "show_all": "Show all proposals",
        "show_agenda": "Show the agenda",
        "per_sending": "Per home department",
        "per_receiving": "Per receiving department",
        "count": "Count",
        "page_of": "Page {page} of {pages}",
        "previous": "Previous",
        "next": "Next",
        "paused": "paused",
        "days_to_deadline": "Days to deadline",
        "late_by": "{n} days late",
        "late_by_one": "1 day late",
        "alternatives": "Alternatives",
        "alternatives_none": "No other possible slots.",
        "choose": "Choose",
        "choose_label": "Choose {department} {day} instead",
        "alt_unassigned": "would leave {n} other patient(s) without a slot",
        "alt_breaches": "would mean {n} more breach(es) ({days} days late in all)",
        "alt_days": "would add {days} days late in all",
        "alt_further": "meets the deadline but is {km} km further away",
        "alt_nearer_policy": "{km} km nearer, but ranks lower on the policy (later day, price or "
        "provider); the deadline is met either way",
        "alt_policy": "meets the deadline; ranks lower on the policy (later day, price or "
        "provider)",
        "slot_to": "The slot goes to",
        "chosen_instead": "chosen instead",
        "stale_title": "Stale capacity: {n} declaration(s) are older than a week.",
        "stale_note": "The proposals rest on free slots that may be gone; call the department "
        "before accepting a referral.",
        "stale_declared": "last declared {when} ({days} days ago)",
        "stale_more": "and {n} more",
        "decided_by": "{decision} by {who}, {when}",
        "earlier_run": "run {run}",
        "earlier_reject": "rejected earlier: {department}",
        "fig_breaches": "Breaches",
        "fig_days_late": "Days late in all",
        "fig_unassigned": "Without a slot",
        "fig_to_decide": "To decide",
        "fig_agenda": "On the agenda",
        "fig_at_risk": "At risk within {days} days",
        "fig_paused": "Clocks paused",
        "fig_away": "Referrals away from home",
        "fig_travel": "Total travel (km)",
        "fig_patients": "Patients",
        "fig_decided": "Accepted / rejected / on hold",
        "with_sharing": "With sharing",
        "current_practice": "Current practice",
        "difference": "Difference",
        "by_region": "Per region",
        "details": "How it was computed",
        "snapshot": "Data snapshot",
        "review": "Proposals",
        "capacity": "Capacity",
        "at_risk": "At risk",
        "collaboration": "Collaboration",
        "week": "Week",
        "run": "Run",
        "today": "Date",
        "patient": "Pseudonym",
        "procedure": "Procedure",
        "deadline": "Deadline",
        "booking": "Current booking",
        "proposed": "Proposed slot",
        "travel_km": "Travel (km)",
        "provider_type": "Provider type",
        "reason": "Reason",
        "action": "Action",
        "decision": "Decision",
        "days_late": "Days late",
        "region": "Region",
        "department": "Department",
        "sending": "From (home department)",
        "receiving": "To (receiving department)",
        "none": "none",
        "all": "all",
        "unassigned_slot": "no free slot",
        "proposals": "proposals",
        "kpis": "Key figures",
        "kpi_patients": "Patients",
        "kpi_unassigned": "Without a slot (first priority)",
        "kpi_breaches": "Breaches (second priority)",
        "kpi_days_late": "Days late (third priority)",
        "kpi_actions": "Kept / moved / new",
        "kpi_out_of_region": "Out of region / private / foreign",
        "kpi_travel": "Total travel (km)",
        "kpi_certificate": "Proof of the best solution on the first three priorities",
        "method_single-pass": "single pass",
        "method_staged": "staged",
        "method_services": "{count} services",
        "kpi_decided": "Accepted / rejected / on hold",
        "kpi_at_risk": "At risk within {days} days",
        "accept": "accepted",
        "reject": "rejected",
        "hold": "on hold",
        "capacity_title": "Free slots against demand per department and week",
        "capacity_note": (
            "Each cell: free slots / demand (patients without a booking by their deadline, by "
            "home department and the deadline's week; passed deadlines count in the first week)."
        ),
        "free": "free",
        "demand": "demand",
        "legend": "Legend",
        "scale_none": "no free slots and no demand",
        "scale_surplus": "surplus (at least 1.5 × demand)",
        "scale_balanced": "covered (1-1.5 ×)",
        "scale_short": "short (0.5-1 ×)",
        "scale_severe": "severe shortage (under 0.5 ×)",
        "at_risk_title": "Patients at risk",
        "at_risk_note": (
            "Active deadlines within {days} days of {today}, with no booking on or before the "
            "deadline."
        ),
        "days_left": "Days to deadline",
        "overdue": "overdue",
        "no_patients": "No patients.",
        "generated": "Printed",
        "certificate": "certificate",
        "verified": "certificate verified",
        "duty_to_act": "Duty to act",
        "duty_title": "Duty to act: cannot start at home by the deadline",
        "duty_note": (
            "Patients whom the newest run does not start at their home department by the "
            "deadline and who have no documented offer of referral yet; days counted from {today}."
        ),
        "why": "Why",
        "why_moved": "moved to another department",
        "why_late": "the home department's slot is after the deadline",
        "why_no_slot": "no free slot found",
        "days_n": "{n} days",
        "days_one": "1 day",
        "due_today": "due today",
        "overdue_by_n": "overdue by {n} days",
        "overdue_by_one": "overdue by 1 day",
        "timeline": "Timeline",
        # the look-ahead capacity page (reports.meeting.capacity)
        "capview_title": "Free slots against demand per department, procedure and week",
        "capview_note": (
            "Each cell: free slots / known + expected demand. Known: patients on the list now "
            "without a booking by their deadline, by home department, procedure and the "
            "deadline's week (passed deadlines count in the first week). Expected: new referrals "
            "from the week's Monday on at the usual referral rates, counted in the week of their "
            "deadline ({days} days after the referral), so they show from the third week on. The "
            "colour is free slots against known + expected."
        ),
        "capview_scale": (
            "The referral rates are national figures from the reference data (new cases a year), "
            "scaled to the size of the stored waiting list: {percent} % of the national one."
        ),
        "capview_caption": "Capacity per department and procedure, weeks {first} to {last}",
        "capview_known": "known",
        "capview_expected": "expected",
        "capview_cell": "free / known + expected",
        "capview_total": "total",
        "capview_holiday": "Public holiday",
        "capview_holiday_week": "Week with a public holiday",
        "capview_all_regions": "all regions",
        "capview_no_rows": "No department offers the collaboration's procedures in this region.",
        "holiday_new_years_day": "New Year's Day",
        "holiday_maundy_thursday": "Maundy Thursday",
        "holiday_good_friday": "Good Friday",
        "holiday_easter_sunday": "Easter Sunday",
        "holiday_easter_monday": "Easter Monday",
        "holiday_great_prayer_day": "Great Prayer Day",
        "holiday_ascension_day": "Ascension Day",
        "holiday_whit_sunday": "Whit Sunday",
        "holiday_whit_monday": "Whit Monday",
        "holiday_christmas_day": "Christmas Day",
        "holiday_boxing_day": "Boxing Day",
    },
}

#: Danish words for the proposal actions (the vocabulary's DANISH_LABELS has no actions).
ACTION_LABELS_DA: dict[str, str] = {
    Action.KEEP: "behold",
    Action.MOVE: "flyt",
    Action.NEW: "ny",
    Action.UNASSIGNED: "uden tid",
}


#: Words the workbook needs beyond the page's.
SHEET_TEXT: dict[str, dict[str, str]] = {
    "da": {
        "kpis": "Nøgletal",
        "proposals": "Forslag",
        "capacity": "Kapacitet",
        "at_risk": "I risiko",
        "from": "Fra",
        "sending_id": "Fra afdeling",
        "receiving_id": "Til afdeling",
        "name": "navn",
        "booked_department": "Booket afdeling",
        "booked_date": "Booket dato",
        "proposed_department": "Foreslået afdeling",
        "proposed_date": "Foreslået dato",
        "decision_reason": "Begrundelse for beslutning",
        "yes": "ja",
        "duty_to_act": "Handlepligt",
        "in_words": "i ord",
        "run": "Kørsel",
        "week": "Uge",
    },
    "en": {
        "kpis": "Key figures",
        "proposals": "Proposals",
        "capacity": "Capacity",
        "at_risk": "At risk",
        "from": "From",
        "sending_id": "From department",
        "receiving_id": "To department",
        "name": "name",
        "booked_department": "Booked department",
        "booked_date": "Booked date",
        "proposed_department": "Proposed department",
        "proposed_date": "Proposed date",
        "decision_reason": "Reason for decision",
        "yes": "yes",
        "duty_to_act": "Duty to act",
        "in_words": "in words",
        "run": "Run",
        "week": "Week",
    },
}


def term(value: Any, lang: str) -> str:
    """A domain value in the page's language: Danish labels by default, the code in English."""
    text = "" if value is None else str(value)
    if lang == "en":
        return text.replace("_", " ")
    return ACTION_LABELS_DA.get(text) or DANISH_LABELS.get(text, text)


def days_left_text(days: int, lang: str) -> str:
    """Days to a deadline in words: ``3 dage``, ``fristen er i dag``, ``overskredet med 2 dage``."""
    t = TEXT[lang if lang in LANGUAGES else "da"]
    if days == 0:
        return t["due_today"]
    if days < 0:
        return t["overdue_by_one"] if days == -1 else t["overdue_by_n"].format(n=-days)
    return t["days_one"] if days == 1 else t["days_n"].format(n=days)


#: The solver's proof method as it writes it: ``staged + single-pass (4 services)``.
_METHOD = re.compile(r"^(?P<methods>[\w+ -]+?)(?: \((?P<count>\d+) services\))?$")


def method_text(method: str, lang: str) -> str:
    """The solver's proof method in the page's language (as written when it is not known)."""
    t = TEXT[lang if lang in LANGUAGES else "da"]
    found = _METHOD.match(method)
    if found is None:
        return method
    names = [t.get(f"method_{name}", name) for name in found["methods"].split(" + ")]
    words = " + ".join(names)
    if found["count"]:
        words += f" ({t['method_services'].format(count=found['count'])})"
    return words
