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
        "kpi_unassigned": "Uden tid (niveau 1)",
        "kpi_breaches": "Fristoverskridelser (niveau 2)",
        "kpi_days_late": "Dage for sent (niveau 3)",
        "kpi_actions": "Behold / flyt / ny",
        "kpi_out_of_region": "Uden for regionen / privat / udland",
        "kpi_travel": "Samlet afstand (km)",
        "kpi_certificate": "Optimalitet niveau 1-3",
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
        "kpi_unassigned": "Unassigned (tier 1)",
        "kpi_breaches": "Breaches (tier 2)",
        "kpi_days_late": "Days late (tier 3)",
        "kpi_actions": "Kept / moved / new",
        "kpi_out_of_region": "Out of region / private / foreign",
        "kpi_travel": "Total travel (km)",
        "kpi_certificate": "Optimality of tiers 1-3",
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
