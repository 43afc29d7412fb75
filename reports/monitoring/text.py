"""The monitoring report's words in Danish and English, and how it names domain values."""

from __future__ import annotations

from typing import Final

from capacity.vocabulary import DANISH_LABELS
from reports.monitoring.cube import ALL

LANGUAGES: Final = ("da", "en")

TEXT: Final[dict[str, dict[str, str]]] = {
    "da": {
        "title": "Overvågning af maksimale ventetider på kræftområdet",
        "quarter": "Kvartal",
        "source": "Datakilde",
        "pathways_counted": "Afsluttede forløb i kvartalet",
        "ignored": "Forløb uden for kvartalet (ikke talt med)",
        "region": "Region",
        "collaboration": "Samarbejde",
        "procedure": "Ydelse",
        "pathways": "Forløb i alt",
        "within": "Inden for maksimal ventetid",
        "complied": "Overskredet, regler overholdt: i alt",
        "health": "Heraf helbred",
        "patient_wish": "Heraf patientens ønske",
        "capacity": "Heraf kapacitet (tilbudt henvisning)",
        "not_complied": "Regler ikke overholdt",
        "within_share": "Andel inden for (%)",
        "days_exceeded_sum": "Dage overskredet: sum",
        "days_exceeded_mean": "gns.",
        "days_exceeded_median": "median",
        "all_regions": "Hele landet",
        "all": "I alt",
        "national_title": "Hele landet pr. region",
        "collaboration_title": "Hele landet pr. samarbejde og ydelse",
        "region_title": "{region} pr. samarbejde og ydelse",
        "categories_note": (
            "Kategorierne følger den nationale overvågningsmodel fra 2024: inden for maksimal "
            "ventetid; overskredet, men regler overholdt, fordelt på årsag (patientens helbred, "
            "patientens ønske, kapacitet hvor patienten er informeret og tilbudt henvisning); "
            "regler ikke overholdt. Forløb opgøres efter bopælsregion (regionen med handlepligt)."
        ),
        "suppression_note": (
            "Diskretionering: antal fra 1 til 4 vises som «<5». Celler markeret «..» er skjult, "
            "så de skjulte tal ikke kan regnes ud fra totaler (sekundær diskretionering). "
            "Dage overskredet vises kun for grupper med mindst 5 overskredne forløb, hvis antal "
            "selv er vist."
        ),
        "days_note": "Dage overskredet: kalenderdage fra den lovmæssige frist til start.",
        "generated": "Dannet",
        "partial": "Delvist kvartal: forløb fra {first} (kvartalet starter {start}).",
        "quarters_title": "Hele landet: kvartalet og kvartalet før",
        "types_title": "Hele landet pr. forløbstype",
        "quarter_axis": "Kvartal",
        "quarters_sheet": "kvartaler",
        "types_sheet": "forløbstyper",
        "pathway_type": "Forløbstype",
        "investigation": "Udredning",
        "primary": "Initial behandling",
        "follow_on": "Efterbehandling",
    },
    "en": {
        "title": "Monitoring of maximum waiting times for cancer",
        "quarter": "Quarter",
        "source": "Source",
        "pathways_counted": "Pathways completed in the quarter",
        "ignored": "Pathways outside the quarter (not counted)",
        "region": "Region",
        "collaboration": "Collaboration",
        "procedure": "Procedure",
        "pathways": "Pathways",
        "within": "Within the maximum waiting time",
        "complied": "Exceeded, rules complied: total",
        "health": "of which health",
        "patient_wish": "of which patient's wish",
        "capacity": "of which capacity (offered referral)",
        "not_complied": "Rules not complied",
        "within_share": "Share within (%)",
        "days_exceeded_sum": "Days exceeded: sum",
        "days_exceeded_mean": "mean",
        "days_exceeded_median": "median",
        "all_regions": "Denmark",
        "all": "Total",
        "national_title": "Denmark by region",
        "collaboration_title": "Denmark by collaboration and procedure",
        "region_title": "{region} by collaboration and procedure",
        "categories_note": (
            "Categories of the national monitoring model (2024): within the maximum waiting "
            "time; exceeded but rules complied, by reason (the patient's health, the patient's "
            "wish, capacity where the patient was informed and offered referral elsewhere); "
            "rules not complied. Pathways count in the home region (the region with the duty to "
            "act)."
        ),
        "suppression_note": (
            "Disclosure control: counts from 1 to 4 are shown as '<5'. Cells shown as '..' are "
            "hidden so that no hidden count can be worked out from totals (secondary "
            "suppression). Days exceeded are shown only for groups of at least 5 exceeded "
            "pathways whose number is itself shown."
        ),
        "days_note": "Days exceeded: calendar days from the legal deadline to the start.",
        "generated": "Generated",
        "partial": "Partial quarter: pathways from {first} (the quarter starts {start}).",
        "quarters_title": "Denmark: this quarter and the one before",
        "types_title": "Denmark by pathway type",
        "quarter_axis": "Quarter",
        "quarters_sheet": "quarters",
        "types_sheet": "pathway types",
        "pathway_type": "Pathway type",
        "investigation": "Investigation",
        "primary": "Primary treatment",
        "follow_on": "Follow-on treatment",
    },
}

ENGLISH_LABELS: Final[dict[str, str]] = {
    "breast": "breast",
    "lung": "lung",
    "urinary": "urinary tract",
    "gynaecological": "gynaecological",
    "upper_gi": "upper GI",
    "lower_gi": "lower GI",
    "pre_examination": "pre-examination",
    "surgery": "surgery",
    "chemotherapy": "chemotherapy",
    "radiotherapy": "radiotherapy",
}


def label(value: str, lang: str, axis: str = "") -> str:
    """A domain value as shown in the report's language; totals as "Hele landet"/"I alt"."""
    words = TEXT[lang]
    if value == ALL:
        return words["all_regions"] if axis == "home_region" else words["all"]
    if axis == "home_region":
        return f"Region {value}"
    if lang == "da":
        return DANISH_LABELS.get(value, value)
    return ENGLISH_LABELS.get(value, value)
