"""The scenario report's words in Danish (the default) and English, and its number formats.

KPI names become words, domain values (collaborations, procedures) their Danish or English
labels, shares per cent, and :func:`settings` describes what a scenario actually sets (from the
validated model, never from its free-text description, which an edit may leave behind).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from capacity.vocabulary import DANISH_LABELS

if TYPE_CHECKING:
    from scenarios.schema import Scenario

LANGUAGES: Final = ("da", "en")

ENGLISH_LABELS: Final[dict[str, str]] = {
    "upper_gi": "upper GI",
    "lower_gi": "lower GI",
    "urinary": "urinary tract",
    "pre_examination": "pre-examination",
}

#: KPI names in words: (Danish, English).
KPI_LABELS: Final[dict[str, tuple[str, str]]] = {
    "within_share": ("Andel startet inden for fristen", "Share started within the deadline"),
    "treated_within": ("Startet inden for fristen", "Started within the deadline"),
    "exceeded_capacity": ("Frist overskredet: kapacitet", "Deadline exceeded: capacity"),
    "exceeded_health": ("Frist overskredet: helbred", "Deadline exceeded: health"),
    "exceeded_wish": ("Frist overskredet: patientens ønske", "Deadline exceeded: patient's wish"),
    "capacity_share": ("Andel overskredet pga. kapacitet", "Share exceeded for capacity"),
    "days_late_total": ("Dage over fristen i alt", "Days past the deadline, total"),
    "days_late_mean": ("Dage over fristen pr. overskridelse", "Days past the deadline, mean"),
    "moves": ("Behandlet uden for hjemmeafdelingen", "Treated away from the home department"),
    "out_of_region": ("Behandlet i en anden region", "Treated in another region"),
    "private": ("Behandlet privat", "Treated privately"),
    "foreign": ("Behandlet i udlandet", "Treated abroad"),
    "offers": ("Tilbud om henvisning", "Offers of referral"),
    "offers_declined": ("Tilbud afslået", "Offers declined"),
    "declined_share": ("Andel tilbud afslået", "Share of offers declined"),
    "travel_km_total": ("Rejseafstand i alt (km)", "Travel, total (km)"),
    "travel_km_mean": ("Rejseafstand pr. patient (km)", "Travel per patient (km)"),
    "cost_dkk": ("Pris (kr.)", "Price (DKK)"),
    "treated": ("Startet i alt", "Started, total"),
    "arrivals": ("Nye henvisninger", "New referrals"),
    "waiting_end": ("På ventelisten til sidst", "On the list at the end"),
    "waiting_overdue_end": (
        "På ventelisten til sidst, over fristen",
        "On the list at the end, past the deadline",
    ),
    "waiting": ("På ventelisten", "On the list"),
    "waiting_overdue": ("På ventelisten over fristen", "On the list past the deadline"),
    "within": ("Startet inden for fristen", "Started within the deadline"),
}
#: KPIs where more is better (the headline's direction); fewer is better for the others.
MORE_IS_BETTER: Final = frozenset({"within_share", "treated_within", "treated", "within"})

TEXT: Final[dict[str, dict[str, str]]] = {
    "da": {
        "title": "Scenarie: {name}",
        "settings": "Hvad scenariet sætter",
        "differs": "Forskellen fra basis ({base})",
        "same_settings": "Samme indstillinger som basis.",
        "description": "Filens egen beskrivelse (fri tekst, ikke kontrolleret mod indstillingerne)",
        "more": "De øvrige {count} samarbejder og ydelser",
        "headline": "Svaret",
        "headline_more": "{count} flere patienter starter inden for fristen",
        "headline_fewer": "{count} færre patienter starter inden for fristen",
        "headline_same": "Lige så mange patienter starter inden for fristen",
        "headline_where": "{where}: {phrase}",
        "national": "Hele landet",
        "over_horizon": "over {weeks} uger",
        "certain": "95 %-interval {interval}: forskellen er større end den tilfældige variation",
        "uncertain": "95 %-interval {interval}: kan ikke skelnes fra tilfældig variation",
        "no_interval": "for få gentagelser til et interval",
        "paired": (
            "Kørslerne deler frø: hver gentagelse sammenlignes med basis' gentagelse med samme "
            "tilfældige tal (parret t-interval)."
        ),
        "welch": (
            "Kørslerne har forskellige frø: forskellen er mellem middelværdier med et "
            "Welch-interval."
        ),
        "share_line": "Andel startet inden for fristen: {base} → {run}",
        "capacity_line": "Frist overskredet pga. kapacitet: {difference}",
        "department_line": ("Startet ved {department}: {base} → {run} ({difference}; {certainty})"),
        "run_headline": "{where}: {within} startet inden for fristen ({share}), {capacity} "
        "overskredet pga. kapacitet",
        "where_title": "Hvor: samarbejde og ydelse",
        "where_caption": (
            "Startet inden for fristen og overskredet pga. kapacitet pr. samarbejde og ydelse, "
            "{weeks} uger, middel over gentagelser; de berørte først"
        ),
        "regions_title": "Hvor: bopælsregion",
        "regions_caption": "{service}: startet inden for fristen pr. bopælsregion",
        "departments_title": "Hvor: afdelinger",
        "departments_caption": (
            "{service}: patienter startet pr. afdeling og udnyttelse, middel over gentagelser"
        ),
        "service": "Samarbejde og ydelse",
        "region": "Bopælsregion",
        "department": "Afdeling",
        "base": "Basis",
        "run": "Scenarie",
        "difference": "Forskel [95 %]",
        "mean_ci": "Middel [95 %]",
        "slots": "Pladser",
        "used": "Brugt",
        "utilisation": "Udnyttelse",
        "started": "Startet",
        "affected": "berørt",
        "kpi": "Nøgletal",
        "kpi_title": "Alle nøgletal",
        "kpi_caption": "Nøgletal over hele perioden: middel over gentagelser [95 %-interval]",
        "compare_caption": "{run} mod {base}: middel og forskel [95 %-interval]",
        "time_title": "Uge for uge",
        "time_caption": (
            "Pr. uge: patienter i den berørte ydelse startet inden for fristen og andelen "
            "startet inden for fristen i hele landet (uden berørt ydelse: overskridelser efter "
            "årsag), middel over gentagelser med 95 %-bånd; gråt: ugerne med scenariets "
            "ændringer."
        ),
        "time_alt": (
            "To linjediagrammer pr. uge: andelen startet inden for fristen og antal "
            "overskridelser efter årsag, hver med et skraveret 95 %-bånd."
        ),
        "both_caption": (
            "Pr. uge, scenariet og basis med 95 %-bånd: patienter i den berørte ydelse startet "
            "inden for fristen, og andelen startet inden for fristen i hele landet; gråt: "
            "ugerne med ændringer."
        ),
        "both_alt": "Linjediagram pr. uge af andelen inden for fristen for scenariet og basis.",
        "late_title": "Dage over fristen",
        "late_caption": "Patienter startet efter fristen efter antal dage, alle gentagelser.",
        "late_alt": "Stablet søjlediagram: patienter efter dage over fristen, fordelt på årsag.",
        "use_title": "Udnyttelse",
        "use_caption": "Udnyttelse af de {top} mest brugte afdelinger; de berørte markeret.",
        "use_alt": "Vandret søjlediagram af brugte pladser som andel af pladser.",
        "about": "Om kørslen",
        "meta": "{replications} gentagelser à {weeks} uger, frø {seed}",
        "ran": "kørt {at} på {seconds} s ({executor})",
        "week": "uge",
        "week_axis": "Simuleret uge",
        "share_axis": "andel startet inden for fristen",
        "patients_week": "patienter pr. uge",
        "patients": "patienter",
        "days_late": "dage over fristen",
        "no_late": "ingen patient startede efter fristen",
        "used_share": "brugte pladser / pladser",
        "within_axis": "Startet inden for fristen",
        "exceeded_axis": "Frist overskredet",
        "comparison_title": "Sammenligning: {runs}",
        "comparison_intro": (
            "Middel over gentagelser med 95 %-intervaller; forskelle til den første kørsel."
        ),
        # settings
        "base_reference": "Udgangspunkt: referencedata uge {week}, skala {scale}{shortages}",
        "shortages": ", med generatorens tre korte ydelser",
        "base_folder": "Udgangspunkt: kontraktmappe {path}",
        "base_database": "Udgangspunkt: database, uge {week}",
        "horizon": "Periode: {weeks} uger fra {start}",
        "start_base": "udgangspunktets uge",
        "weeks": "i uge {first}–{last}",
        "all_weeks": "i hele perioden",
        "reduce": "{department} mister {percent} % af {service} {weeks}",
        "close": "{department} lukker {service} {weeks}",
        "extra": "{department}: {slots} ekstra pladser om ugen til {service} ({days}) {weeks}",
        "private": "Aftale med {department}: {slots} pladser om ugen til {service} {weeks}",
        "foreign_off": "Udenlandsk kapacitet slået fra{countries} {weeks}",
        "foreign_on": "Udenlandsk kapacitet slået til{countries} {weeks}",
        "all_services": "alle ydelser",
        "headroom": "Afdelingerne udbyder {headroom} × de forventede henvisninger",
        "arrival_scale": "Henvisninger × {scale}",
        "rate": "{service}{region}: {per_week} henvisninger om ugen",
        "season": "Sæsonvariation ±{amplitude} % med top i uge {peak}",
        "surge": "{service}{region}: henvisninger × {factor} {weeks}",
        "cross_region_on": "Deling på tværs af regioner: ja",
        "cross_region_off": "Deling på tværs af regioner: nej",
        "policy": "Politik: {policy}",
        "acceptance": "Accept af tilbud: {acceptance}",
        "pauses": "Pauser: {pauses}",
        "replications": "{replications} gentagelser, frø {seed}",
        "in_region": " i Region {region}",
    },
    "en": {
        "title": "Scenario: {name}",
        "settings": "What the scenario sets",
        "differs": "How it differs from the base ({base})",
        "same_settings": "The same settings as the base.",
        "description": "The file's own description (free text, not checked against the settings)",
        "more": "The other {count} collaborations and procedures",
        "headline": "The answer",
        "headline_more": "{count} more patients start within the deadline",
        "headline_fewer": "{count} fewer patients start within the deadline",
        "headline_same": "As many patients start within the deadline",
        "headline_where": "{where}: {phrase}",
        "national": "Denmark",
        "over_horizon": "over {weeks} weeks",
        "certain": "95 % interval {interval}: the difference is larger than the noise",
        "uncertain": "95 % interval {interval}: not distinguishable from the noise",
        "no_interval": "too few replications for an interval",
        "paired": (
            "The runs share seeds: each replication is compared with the base's replication "
            "with the same random numbers (paired t interval)."
        ),
        "welch": (
            "The runs have different seeds: the difference is between means, with a Welch interval."
        ),
        "share_line": "Share started within the deadline: {base} → {run}",
        "capacity_line": "Deadline exceeded for capacity: {difference}",
        "department_line": "Started at {department}: {base} → {run} ({difference}; {certainty})",
        "run_headline": "{where}: {within} started within the deadline ({share}), {capacity} "
        "exceeded for capacity",
        "where_title": "Where: collaboration and procedure",
        "where_caption": (
            "Started within the deadline and exceeded for capacity per collaboration and "
            "procedure, {weeks} weeks, mean over replications; the affected first"
        ),
        "regions_title": "Where: home region",
        "regions_caption": "{service}: started within the deadline per home region",
        "departments_title": "Where: departments",
        "departments_caption": (
            "{service}: patients started per department and utilisation, mean over replications"
        ),
        "service": "Collaboration and procedure",
        "region": "Home region",
        "department": "Department",
        "base": "Base",
        "run": "Scenario",
        "difference": "Difference [95 %]",
        "mean_ci": "Mean [95 %]",
        "slots": "Slots",
        "used": "Used",
        "utilisation": "Utilisation",
        "started": "Started",
        "affected": "affected",
        "kpi": "KPI",
        "kpi_title": "All KPIs",
        "kpi_caption": "KPIs over the whole horizon: mean over replications [95 % interval]",
        "compare_caption": "{run} against {base}: mean and difference [95 % interval]",
        "time_title": "Week by week",
        "time_caption": (
            "Per week: patients of the affected service started within the deadline and the "
            "country's share started within it (without an affected service: exceedances by "
            "reason), mean over replications with 95 % bands; grey: the weeks of the "
            "scenario's changes."
        ),
        "time_alt": (
            "Two line charts by week: the share started within the deadline and the number of "
            "exceedances by reason, each with a shaded 95 % band."
        ),
        "both_caption": (
            "Per week, the scenario and the base with 95 % bands: patients of the affected "
            "service started within the deadline, and the country's share started within it; "
            "grey: the weeks of the changes."
        ),
        "both_alt": "Line chart by week of the share within the deadline, scenario and base.",
        "late_title": "Days past the deadline",
        "late_caption": "Patients started after the deadline by days late, all replications.",
        "late_alt": "Stacked bar chart: patients by days past the deadline, split by reason.",
        "use_title": "Utilisation",
        "use_caption": "Utilisation of the {top} most used departments; the affected marked.",
        "use_alt": "Horizontal bar chart of used slots as a share of slots.",
        "about": "About the run",
        "meta": "{replications} replications of {weeks} weeks, seed {seed}",
        "ran": "ran {at} in {seconds} s ({executor})",
        "week": "week",
        "week_axis": "Simulated week",
        "share_axis": "share started within the deadline",
        "patients_week": "patients per week",
        "patients": "patients",
        "days_late": "days past the deadline",
        "no_late": "no patient started after the deadline",
        "used_share": "used slots / slots",
        "within_axis": "Started within the deadline",
        "exceeded_axis": "Deadline exceeded",
        "comparison_title": "Comparison: {runs}",
        "comparison_intro": (
            "Means over replications with 95 % intervals; differences to the first run."
        ),
        "base_reference": "Base: reference data week {week}, scale {scale}{shortages}",
        "shortages": ", with the generator's three short services",
        "base_folder": "Base: contract folder {path}",
        "base_database": "Base: database, week {week}",
        "horizon": "Horizon: {weeks} weeks from {start}",
        "start_base": "the base's week",
        "weeks": "in weeks {first}–{last}",
        "all_weeks": "throughout",
        "reduce": "{department} loses {percent} % of {service} {weeks}",
        "close": "{department} closes {service} {weeks}",
        "extra": "{department}: {slots} extra slots a week for {service} ({days}) {weeks}",
        "private": "Agreement with {department}: {slots} slots a week for {service} {weeks}",
        "foreign_off": "Foreign capacity off{countries} {weeks}",
        "foreign_on": "Foreign capacity on{countries} {weeks}",
        "all_services": "all services",
        "headroom": "Departments offer {headroom} × the expected referrals",
        "arrival_scale": "Referrals × {scale}",
        "rate": "{service}{region}: {per_week} referrals a week",
        "season": "Seasonality ±{amplitude} % peaking in week {peak}",
        "surge": "{service}{region}: referrals × {factor} {weeks}",
        "cross_region_on": "Sharing across regions: yes",
        "cross_region_off": "Sharing across regions: no",
        "policy": "Policy: {policy}",
        "acceptance": "Acceptance of offers: {acceptance}",
        "pauses": "Pauses: {pauses}",
        "replications": "{replications} replications, seed {seed}",
        "in_region": " in Region {region}",
    },
}

WEEKDAYS_DA: Final = {
    "monday": "mandag",
    "tuesday": "tirsdag",
    "wednesday": "onsdag",
    "thursday": "torsdag",
    "friday": "fredag",
    "saturday": "lørdag",
    "sunday": "søndag",
}


def check_lang(lang: str) -> str:
    """``lang`` if the report speaks it, else a ValueError naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}")
    return lang


def words(lang: str) -> dict[str, str]:
    """The report's texts in ``lang``."""
    return TEXT[check_lang(lang)]


def label(value: str, lang: str) -> str:
    """A domain value (collaboration, procedure) in the report's language."""
    if lang == "da":
        return DANISH_LABELS.get(value, value)
    return ENGLISH_LABELS.get(value, value)


def service_label(collaboration: str, procedure: str | None, lang: str) -> str:
    """``Øvre GI, operation`` (``Upper GI, surgery``); the collaboration alone without one."""
    text = label(collaboration, lang)
    text = text[:1].upper() + text[1:]
    return f"{text}, {label(procedure, lang)}" if procedure else text


def kpi_label(kpi: str, lang: str) -> str:
    """A KPI's name in words."""
    names = KPI_LABELS.get(kpi)
    if names is None:
        return kpi
    return names[0] if lang == "da" else names[1]


def number(value: Any, lang: str, signed: bool = False, digits: int | None = None) -> str:
    """A number in the language's format (Danish: ``1.234,5``), digits by magnitude."""
    if value is None or math.isnan(float(value)):
        return "–"
    value = float(value)
    if digits is None:
        digits = 0 if abs(value) >= 100 or float(value).is_integer() else 1
        if value != 0 and abs(value) < 1 and digits:
            digits = 2
    text = f"{value:{'+' if signed else ''},.{digits}f}"
    if signed and text.lstrip("+-").strip("0.,") == "":
        text = text.lstrip("+-")  # no sign on a zero
    if signed:
        text = text.replace("-", "−")
    if lang == "da":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(value: Any, lang: str, signed: bool = False) -> str:
    """A share as per cent: ``87,4 %`` (a difference of shares in percentage points)."""
    if value is None or math.isnan(float(value)):
        return "–"
    value = float(value)
    unit = (" %-point" if lang == "da" else " pp") if signed else " %"
    return number(100 * value, lang, signed=signed, digits=1) + unit


def value(kpi: str, amount: Any, lang: str, signed: bool = False) -> str:
    """A KPI's value as shown: shares in per cent, the rest as numbers."""
    from scenarios.kpis import SHARES

    if kpi in SHARES:
        if signed:
            return percent(amount, lang, signed=True)
        return percent(amount, lang)
    return number(amount, lang, signed=signed)


def interval(kpi: str, mean: Any, low: Any, high: Any, lang: str, signed: bool = False) -> str:
    """``mean [low; high]`` (Danish) or ``mean [low, high]``; no brackets without an interval."""
    text = value(kpi, mean, lang, signed)
    if low is None or high is None or math.isnan(float(low)) or math.isnan(float(high)):
        return text
    if low == high == mean:
        return text  # no spread: the replications agree exactly
    separator = "; " if lang == "da" else ", "
    from scenarios.kpis import SHARES

    if kpi in SHARES:  # the unit once, after the interval: 87,4 [85,1; 89,0] %
        unit = (" %-point" if lang == "da" else " pp") if signed else " %"
        bare = [number(100 * v, lang, signed=signed, digits=1) for v in (mean, low, high)]
        return f"{bare[0]} [{bare[1]}{separator}{bare[2]}]{unit}"
    return f"{text} [{value(kpi, low, lang, signed)}{separator}{value(kpi, high, lang, signed)}]"


def range_text(kpi: str, low: Any, high: Any, lang: str) -> str:
    """``fra −5,8 til +4,5`` (``from −5.8 to +4.5``): an interval in words."""
    low_text, high_text = (value(kpi, v, lang, signed=True) for v in (low, high))
    return f"fra {low_text} til {high_text}" if lang == "da" else f"from {low_text} to {high_text}"


def settings(scenario: Scenario, lang: str) -> list[str]:
    """What the scenario sets, one line each, from the validated model (base, horizon, every
    capacity and demand change, sharing across regions, policy, behaviour, replications)."""
    from scenarios.schema import (
        Acceptance,
        Capacity,
        Close,
        DatabaseBase,
        Demand,
        ExtraSessions,
        FolderBase,
        Foreign,
        Pauses,
        PrivateAgreement,
        Reduce,
        ReferenceBase,
        Seasonality,
    )

    t = words(lang)
    lines = []
    base = scenario.base
    if isinstance(base, ReferenceBase):
        lines.append(
            t["base_reference"].format(
                week=base.week,
                scale=number(base.scale, lang),
                shortages=t["shortages"] if base.shortages else "",
            )
        )
    elif isinstance(base, FolderBase):
        lines.append(t["base_folder"].format(path=base.path))
    elif isinstance(base, DatabaseBase):
        lines.append(t["base_database"].format(week=base.week))
    lines.append(
        t["horizon"].format(
            weeks=scenario.horizon_weeks, start=scenario.start_week or t["start_base"]
        )
    )
    for change in scenario.capacity.changes:
        when = _weeks(change.weeks, lang)
        if isinstance(change, Reduce):
            lines.append(
                t["reduce"].format(
                    department=change.department,
                    percent=number(change.percent, lang),
                    service=service_label(change.collaboration, change.procedure, lang),
                    weeks=when,
                )
            )
        elif isinstance(change, Close):
            service = (
                service_label(change.collaboration, change.procedure, lang)
                if change.collaboration
                else t["all_services"]
            )
            lines.append(
                t["close"].format(department=change.department, service=service, weeks=when)
            )
        elif isinstance(change, ExtraSessions):
            days = ", ".join(WEEKDAYS_DA[d] if lang == "da" else d for d in change.weekdays)
            lines.append(
                t["extra"].format(
                    department=change.department,
                    slots=change.slots_per_week,
                    service=service_label(change.collaboration, change.procedure, lang),
                    days=days,
                    weeks=when,
                )
            )
        elif isinstance(change, PrivateAgreement):
            lines.append(
                t["private"].format(
                    department=change.department,
                    slots=change.slots_per_week,
                    service=service_label(change.collaboration, change.procedure, lang),
                    weeks=when,
                )
            )
        elif isinstance(change, Foreign):
            countries = f" ({', '.join(change.countries)})" if change.countries else ""
            key = "foreign_on" if change.enabled else "foreign_off"
            lines.append(t[key].format(countries=countries, weeks=when))
    if scenario.capacity.headroom != Capacity().headroom:
        lines.append(t["headroom"].format(headroom=number(scenario.capacity.headroom, lang)))
    demand = scenario.demand
    if demand.arrival_scale != Demand().arrival_scale:
        lines.append(t["arrival_scale"].format(scale=number(demand.arrival_scale, lang)))
    for rate in demand.rates:
        lines.append(
            t["rate"].format(
                service=service_label(rate.collaboration, rate.procedure, lang),
                region=t["in_region"].format(region=rate.region) if rate.region else "",
                per_week=number(rate.per_week, lang),
            )
        )
    if demand.seasonality != Seasonality() and demand.seasonality.amplitude > 0:
        lines.append(
            t["season"].format(
                amplitude=number(100 * demand.seasonality.amplitude, lang),
                peak=demand.seasonality.peak_week,
            )
        )
    for surge in demand.surges:
        lines.append(
            t["surge"].format(
                service=service_label(surge.collaboration, surge.procedure, lang),
                region=t["in_region"].format(region=surge.region) if surge.region else "",
                factor=number(surge.factor, lang),
                weeks=_weeks(surge.weeks, lang),
            )
        )
    cross = scenario.solver_policy().allow_cross_region
    lines.append(t["cross_region_on" if cross else "cross_region_off"])
    rest = {k: v for k, v in scenario.policy.items() if k != "allow_cross_region"}
    if rest:
        lines.append(t["policy"].format(policy=_flat(rest)))
    if scenario.behaviour.acceptance != Acceptance():
        lines.append(
            t["acceptance"].format(acceptance=_flat(scenario.behaviour.acceptance.model_dump()))
        )
    if scenario.behaviour.pauses != Pauses():
        lines.append(t["pauses"].format(pauses=_flat(scenario.behaviour.pauses.model_dump())))
    lines.append(t["replications"].format(replications=scenario.replications, seed=scenario.seed))
    return lines


def _weeks(weeks: list[int] | None, lang: str) -> str:
    t = words(lang)
    if weeks is None:
        return t["all_weeks"]
    return t["weeks"].format(first=weeks[0], last=weeks[1])


def _flat(mapping: object, prefix: str = "") -> str:
    """A nested mapping as ``a.b: 1, c: true``."""
    if isinstance(mapping, dict):
        parts = [_flat(v, f"{prefix}{k}.") for k, v in mapping.items()]
        return ", ".join(p for p in parts if p)
    return f"{prefix.rstrip('.')}: {mapping}"
