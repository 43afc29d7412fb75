"""The capacity check's words in Danish (the default) and English: the page, the figures,
region and domain labels, and the notes it adds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from capacity.vocabulary import DANISH_LABELS
from reports.capacity_check.balance import ABROAD, ALL

LANGUAGES: Final = ("da", "en")

#: How the country and foreign capacity are named in tables and figures (English).
REGION_LABELS: Final = {ALL: "Denmark (all)", ABROAD: "abroad"}
REGION_LABELS_DA: Final = {ALL: "Hele landet", ABROAD: "udlandet"}

ENGLISH_LABELS: Final = {
    "upper_gi": "upper GI",
    "lower_gi": "lower GI",
    "urinary": "urinary tract",
    "pre_examination": "pre-examination",
}

#: Titles and axis labels of the figures (English; :data:`TEXT` holds both languages).
FIGURES: Final = {
    "utilisation_title": "Utilisation over the period",
    "utilisation_scale": "demand / declared capacity",
    "no_slots": "no slots",
    "weekly_title": "Weekly demand and declared capacity, Denmark",
    "weekly_capacity": "declared capacity",
    "weekly_demand": "demand",
    "weekly_axis": "ISO week",
    "spof_title": "Compliant flow lost if the department is removed",
    "spof_unit": "patients of the week's waiting list who could no longer be seen in time",
    "extra_title": "Breaches one more slot a week avoids over the year",
    "extra_unit": "weeks (one more patient seen in time in each)",
    "extra_regional": "weeks the whole country is short",
    "public": "Danish public",
    "private": "private",
    "foreign": "abroad",
    "holiday_weeks": "holiday weeks",
}

TEXT: Final[dict[str, dict[str, str]]] = {
    "en": {
        **FIGURES,
        "lang": "en",
        "title": "Annual capacity check {year}",
        "period": "Period",
        "period_value": "{first} – {last} ({weeks} weeks)",
        "source": "Source",
        "networks": "Weeks analysed as networks",
        "network_week": (
            "{week} ({patients} patients, {compliant} can be seen in time at most, "
            "{without} without any compliant option)"
        ),
        "none": "none",
        "generated": "Generated",
        "note": "Note",
        "balance_note": (
            "<strong>Balance</strong>: demand is the weekly new referrals of a region's "
            "residents (home region); capacity the free slots the region's departments declare "
            "in the week (private hospitals in their region, foreign departments under "
            "\u201cabroad\u201d). Both follow the year: public holidays, the summer, Christmas and "
            "the school holidays (the reference year profile). Utilisation = demand \u00f7 "
            "declared capacity. A service and region is in <strong>structural deficit</strong> "
            "when its demand exceeds its declared capacity over the period as a whole and in at "
            "least {persistent} % of its weeks."
        ),
        "spof_note": (
            "<strong>Single points of failure</strong>: on each analysed week the "
            "deadline-compliant flow network (patient groups by home region, service and "
            "identical options \u2192 department-days on or before the deadline \u2192 sink) "
            "gives the most patients that can be seen in time. A department's loss is how much "
            "that maximum falls when the department is removed, i.e. compliant capacity no "
            "other department can replace. The minimum cut lists the departments whose slots "
            "every maximum flow fills while patients who could use them still miss their "
            "deadline."
        ),
        "extra_note": (
            "<strong>One more slot</strong>: over the year, the weeks in which patients of "
            "the department's own region are left over for the service while the whole "
            "country is short too (demand beyond declared capacity, carried from week to "
            "week): one more slot a week then surely sees one more patient in time, one whom "
            "no spare slot elsewhere could take (for a foreign department: the weeks the "
            "country is short; the dot in the figure). Danish public departments come first, "
            "then private, then foreign ones. The solver's shadow prices on the analysed weeks "
            "are listed last."
        ),
        "balance_title": "Demand against declared capacity",
        "utilisation_alt": (
            "Heatmap of utilisation (demand divided by declared capacity) per collaboration "
            "and region"
        ),
        "utilisation_caption": (
            "Utilisation per collaboration and region over the period; above 100 % the "
            "region's own slots do not cover its residents' referrals."
        ),
        "weekly_alt": "Weekly national demand and declared capacity per collaboration",
        "weekly_caption": (
            "Weekly demand and declared capacity in Denmark (private and foreign capacity "
            "included); grey: weeks with public holidays."
        ),
        "mean_caption": "Mean weekly demand and declared capacity per collaboration and region",
        "collaboration": "Collaboration",
        "procedure": "Procedure",
        "region": "Region",
        "demand_week": "Demand / week",
        "capacity_week": "Capacity / week",
        "utilisation": "Utilisation",
        "deficit_weeks": "Weeks in deficit",
        "deficits_title": "Structural deficits",
        "deficits_caption": (
            "Services and regions whose demand exceeds declared capacity over the period and "
            "in at least {persistent} % of the weeks"
        ),
        "shortfall": "Mean shortfall / week",
        "note_column": "Note",
        "no_capacity": (
            "no department of the region offers it: its patients depend on other regions"
        ),
        "no_deficits": "No service and region is in structural deficit.",
        "spof_heading": "Single points of failure",
        "spof_alt": "Bar chart of the compliant flow lost when each department is removed",
        "spof_caption": (
            "Patients of a week's waiting list who could no longer be seen in time anywhere if "
            "the department were lost (mean over the analysed weeks)."
        ),
        "spof_caption_table": "Departments whose loss removes the most compliant capacity",
        "department": "Department",
        "name": "Name",
        "flow_through": "Compliant flow through it",
        "loss": "Loss if removed",
        "cut_weeks": "Weeks in the minimum cut",
        "no_spof": "No department's loss reduces the compliant flow: every one can be replaced.",
        "cut_caption": "Minimum cut: binding compliant capacity (slots every maximum flow fills)",
        "week": "Week",
        "slots": "Slots",
        "no_cut": "Empty: every patient with a compliant option can be seen in time.",
        "extra_heading": "Where one more slot avoids the most breaches",
        "extra_alt": (
            "Bar chart of the breaches one more slot a week avoids over the year per department "
            "and service, coloured by provider type"
        ),
        "extra_caption": (
            "Breaches one more slot a week avoids over the year (weeks the department's own "
            "region has patients left over while the country is short); the dot: weeks the "
            "whole country is short."
        ),
        "extra_caption_table": (
            "One more slot a week: breaches avoided over the year; Danish public departments "
            "first, then private and foreign"
        ),
        "provider": "Provider",
        "breaches_year": "Breaches avoided / year",
        "national_weeks": "Weeks the country is short",
        "no_extra": "No extra slot avoids a breach over the year.",
        "shadow_caption": (
            "Shadow prices on the analysed weeks: breaches, unassigned patients and days late "
            "one more slot on the best day avoids"
        ),
        "breaches_saved": "Breaches avoided",
        "unassigned_saved": "Unassigned avoided",
        "days_saved": "Days late saved",
        "no_shadow": "No single extra slot avoids a breach in the analysed weeks.",
    },
    "da": {
        "lang": "da",
        "utilisation_title": "Belægning i perioden",
        "utilisation_scale": "efterspørgsel / udbudt kapacitet",
        "no_slots": "ingen pladser",
        "weekly_title": "Ugentlig efterspørgsel og udbudt kapacitet, hele landet",
        "weekly_capacity": "udbudt kapacitet",
        "weekly_demand": "efterspørgsel",
        "weekly_axis": "ISO-uge",
        "spof_title": "Rettidigt flow der tabes, hvis afdelingen falder bort",
        "spof_unit": "patienter på ugens venteliste, der ikke længere kan ses til tiden",
        "extra_title": "Overskridelser én plads mere om ugen undgår i løbet af året",
        "extra_unit": "uger (én patient mere til tiden i hver)",
        "extra_regional": "uger hele landet mangler pladser",
        "public": "dansk offentlig",
        "private": "privat",
        "foreign": "udlandet",
        "holiday_weeks": "helligdagsuger",
        "title": "Årligt kapacitetstjek {year}",
        "period": "Periode",
        "period_value": "{first} – {last} ({weeks} uger)",
        "source": "Datakilde",
        "networks": "Uger analyseret som netværk",
        "network_week": (
            "{week} ({patients} patienter, højst {compliant} kan ses til tiden, {without} uden "
            "nogen rettidig mulighed)"
        ),
        "none": "ingen",
        "generated": "Dannet",
        "note": "Bemærk",
        "balance_note": (
            "<strong>Balance</strong>: efterspørgslen er de nye henvisninger om ugen af "
            "regionens borgere (bopælsregion); kapaciteten de ledige pladser regionens "
            "afdelinger udbyder i ugen (private sygehuse i deres region, udenlandske afdelinger "
            "under \u201cudlandet\u201d). Begge følger året: helligdage, sommerferien, julen og "
            "skoleferierne (referenceårets profil). Belægning = efterspørgsel \u00f7 udbudt "
            "kapacitet. En ydelse og region er i <strong>strukturelt underskud</strong>, når "
            "efterspørgslen overstiger den udbudte kapacitet over hele perioden og i mindst "
            "{persistent} % af ugerne."
        ),
        "spof_note": (
            "<strong>Enkeltstående svage led</strong>: for hver analyseret uge giver det "
            "rettidige flownetværk (patientgrupper efter bopælsregion, ydelse og samme "
            "muligheder \u2192 afdelingsdage senest på fristen \u2192 dræn) det største antal "
            "patienter, der kan ses til tiden. En afdelings tab er, hvor meget dette maksimum "
            "falder, hvis afdelingen fjernes: rettidig kapacitet ingen anden afdeling kan "
            "erstatte. Minimumssnittet viser afdelinger, hvis pladser ethvert maksimalt flow "
            "fylder, mens patienter, der kunne bruge dem, stadig overskrider fristen."
        ),
        "extra_note": (
            "<strong>Én plads mere</strong>: i løbet af året de uger, hvor patienter fra "
            "afdelingens egen region er i overskud for ydelsen, mens hele landet også mangler "
            "pladser (efterspørgsel over udbudt kapacitet, ført videre fra uge til uge): én "
            "plads mere om ugen ser da med sikkerhed én patient mere til tiden, en som ingen "
            "ledig plads andetsteds kunne tage (for en udenlandsk afdeling: de uger hele "
            "landet mangler; prikken i figuren). Danske offentlige afdelinger står først, så "
            "private, så udenlandske. Løserens skyggepriser for de analyserede uger står sidst."
        ),
        "balance_title": "Efterspørgsel mod udbudt kapacitet",
        "utilisation_alt": (
            "Varmekort over belægning (efterspørgsel delt med udbudt kapacitet) pr. samarbejde "
            "og region"
        ),
        "utilisation_caption": (
            "Belægning pr. samarbejde og region i perioden; over 100 % dækker regionens egne "
            "pladser ikke borgernes henvisninger."
        ),
        "weekly_alt": "Ugentlig efterspørgsel og udbudt kapacitet pr. samarbejde, hele landet",
        "weekly_caption": (
            "Ugentlig efterspørgsel og udbudt kapacitet i hele landet (private og udenlandske "
            "pladser medregnet); gråt: uger med helligdage."
        ),
        "mean_caption": (
            "Gennemsnitlig efterspørgsel og udbudt kapacitet om ugen pr. samarbejde og region"
        ),
        "collaboration": "Samarbejde",
        "procedure": "Ydelse",
        "region": "Region",
        "demand_week": "Efterspørgsel / uge",
        "capacity_week": "Kapacitet / uge",
        "utilisation": "Belægning",
        "deficit_weeks": "Uger i underskud",
        "deficits_title": "Strukturelle underskud",
        "deficits_caption": (
            "Ydelser og regioner, hvor efterspørgslen overstiger den udbudte kapacitet over "
            "perioden og i mindst {persistent} % af ugerne"
        ),
        "shortfall": "Gns. mangel / uge",
        "note_column": "Bemærkning",
        "no_capacity": (
            "ingen afdeling i regionen tilbyder ydelsen: patienterne afhænger af andre regioner"
        ),
        "no_deficits": "Ingen ydelse og region er i strukturelt underskud.",
        "spof_heading": "Enkeltstående svage led",
        "spof_alt": "Søjlediagram over det rettidige flow, der tabes, når hver afdeling fjernes",
        "spof_caption": (
            "Patienter på en uges venteliste, der ikke længere kunne ses til tiden nogen steder, "
            "hvis afdelingen faldt bort (gennemsnit over de analyserede uger)."
        ),
        "spof_caption_table": "Afdelinger, hvis bortfald fjerner mest rettidig kapacitet",
        "department": "Afdeling",
        "name": "Navn",
        "flow_through": "Rettidigt flow gennem den",
        "loss": "Tab ved bortfald",
        "cut_weeks": "Uger i minimumssnittet",
        "no_spof": "Ingen afdelings bortfald mindsker det rettidige flow: alle kan erstattes.",
        "cut_caption": (
            "Minimumssnit: bindende rettidig kapacitet (pladser ethvert maksimalt flow fylder)"
        ),
        "week": "Uge",
        "slots": "Pladser",
        "no_cut": "Tomt: alle patienter med en rettidig mulighed kan ses til tiden.",
        "extra_heading": "Hvor én plads mere undgår flest overskridelser",
        "extra_alt": (
            "Søjlediagram over de overskridelser én plads mere om ugen undgår i løbet af året "
            "pr. afdeling og ydelse, farvet efter udbydertype"
        ),
        "extra_caption": (
            "Overskridelser én plads mere om ugen undgår i løbet af året (uger afdelingens egen "
            "region har patienter i overskud, mens landet mangler pladser); prikken: uger hele "
            "landet mangler pladser."
        ),
        "extra_caption_table": (
            "Én plads mere om ugen: overskridelser undgået i løbet af året; danske offentlige "
            "afdelinger først, så private og udenlandske"
        ),
        "provider": "Udbyder",
        "breaches_year": "Overskridelser undgået / år",
        "national_weeks": "Uger hele landet mangler",
        "no_extra": "Ingen ekstra plads undgår en overskridelse i løbet af året.",
        "shadow_caption": (
            "Skyggepriser for de analyserede uger: overskridelser, patienter uden tid og dage "
            "for sent, som én plads mere på den bedste dag undgår"
        ),
        "breaches_saved": "Overskridelser undgået",
        "unassigned_saved": "Uden tid undgået",
        "days_saved": "Dage for sent sparet",
        "no_shadow": "Ingen enkelt ekstra plads undgår en overskridelse i de analyserede uger.",
    },
}


def words(lang: str) -> dict[str, str]:
    """The check's texts in ``lang`` (da or en)."""
    if lang not in TEXT:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}")
    return TEXT[lang]


def region_label(region: str, lang: str = "en") -> str:
    """A region as the report shows it: the country and foreign capacity by name."""
    labels = REGION_LABELS_DA if lang == "da" else REGION_LABELS
    return labels.get(region, region)


def label(value: str, lang: str) -> str:
    """A collaboration or procedure in the report's language."""
    if lang == "da":
        return DANISH_LABELS.get(value, value)
    return ENGLISH_LABELS.get(value, value)


def few_loads_note(loads_in_period: Sequence[str], lang: str = "en") -> str:
    """The note on a database holding loads for fewer than half the period's weeks."""
    weeks = ", ".join(loads_in_period)
    if lang == "da":
        return (
            f"Databasen rummer {len(loads_in_period)} ugentlig(e) indlæsning(er) i perioden "
            f"({weeks or 'ingen'}): efterspørgslen tæller de gemte patienter i de uger, deres "
            "frister falder i, så uger uden indlæsning viser udbudt kapacitet uden "
            "efterspørgsel, og belægningen ser lav ud. Indlæs hver uge for et helt års tjek."
        )
    return (
        f"The database holds {len(loads_in_period)} weekly load(s) in the period "
        f"({weeks or 'none'}): demand counts the stored patients in "
        "the weeks their deadlines fall in, so weeks without a load show declared capacity "
        "without demand and utilisation reads low. Load every week for a full-year check."
    )


def source_label(source: str, lang: str) -> str:
    """Where the numbers come from, in the report's language (the sources name it in English)."""
    if lang != "da":
        return source
    for english, danish in (
        ("bundled reference data", "medfølgende referencedata"),
        ("scale", "skala"),
        ("seed", "frø"),
        ("without the reference week's shortages", "uden referenceugens mangler"),
        ("stored weeks in the period", "gemte uger i perioden"),
    ):
        source = source.replace(english, danish)
    return source


def number(value: float, lang: str, digits: int = 1) -> str:
    """A number with ``digits`` decimals in the report's language (Danish: ``1.234,5``)."""
    text = f"{float(value):,.{digits}f}"
    if lang == "da":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
