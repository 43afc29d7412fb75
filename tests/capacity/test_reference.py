"""The bundled reference data: consistent, sourced, and true to the domain brief's site rules."""

from __future__ import annotations

import pandas as pd
import pytest

from capacity import reference
from capacity.vocabulary import COLLABORATIONS, PROCEDURES, REGIONS

UNIVERSITY_HOSPITALS = {"RH", "AUH", "OUH", "AAUH"}
#: Generous bounding box of Denmark (Bornholm included), WGS84 degrees.
DENMARK = {"latitude": (54.5, 57.8), "longitude": (8.0, 15.2)}


@pytest.fixture(scope="module")
def departments() -> pd.DataFrame:
    return reference.departments()


@pytest.fixture(scope="module")
def offers() -> pd.DataFrame:
    """Every service row with its department's hospital, region and provider type."""
    return reference.services().merge(
        reference.departments().drop(columns=["confirmed", "source"]), on="department_id"
    )


def _public_sites(offers: pd.DataFrame, collaboration: str, procedure: str) -> set[str]:
    rows = offers[
        (offers["collaboration"] == collaboration)
        & (offers["procedure"] == procedure)
        & (offers["provider_type"] == "public")
    ]
    return set(rows["hospital_code"])


def test_department_ids_are_unique_and_contract_shaped(departments: pd.DataFrame) -> None:
    """Department ids are unique and match the contract's 1-64 of A-Za-z0-9_.- pattern."""
    ids = departments["department_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"[A-Za-z0-9_.-]{1,64}").all()


def test_about_a_hundred_and_thirty_departments(departments: pd.DataFrame) -> None:
    """The reference set has 100-130 departments, most of them public."""
    assert 100 <= len(departments) <= 130
    assert (departments["provider_type"] == "public").mean() > 0.7


def test_every_department_is_complete(departments: pd.DataFrame) -> None:
    """Every department found its hospital: no empty name, region, type or position."""
    assert not departments.drop(columns=["source"]).isna().any().any()


def test_every_service_names_a_known_department(
    departments: pd.DataFrame, offers: pd.DataFrame
) -> None:
    """Each service row's department exists, and each department offers something."""
    services = reference.services()
    assert services["department_id"].isin(departments["department_id"]).all()
    assert departments["department_id"].isin(services["department_id"]).all()
    assert not services.duplicated(["department_id", "collaboration", "procedure"]).any()


def test_services_use_the_contract_vocabulary() -> None:
    """Collaborations and procedures are the contract's; prices are positive."""
    services = reference.services()
    assert services["collaboration"].isin(COLLABORATIONS).all()
    assert services["procedure"].isin(PROCEDURES).all()
    assert (services["price_dkk"] > 0).all()


def test_every_service_is_offered_publicly_in_denmark(offers: pd.DataFrame) -> None:
    """Every collaboration and procedure has at least one public department."""
    for collaboration in COLLABORATIONS:
        for procedure in PROCEDURES:
            assert _public_sites(offers, collaboration, procedure), (collaboration, procedure)


def test_every_region_pre_examines_every_collaboration(offers: pd.DataFrame) -> None:
    """Each region has a public pre-examination department for each collaboration (near home)."""
    pre = offers[(offers["procedure"] == "pre_examination") & (offers["provider_type"] == "public")]
    covered = set(zip(pre["region"], pre["collaboration"], strict=True))
    assert {(r, c) for r in REGIONS for c in COLLABORATIONS} <= covered


def test_lung_surgery_only_at_the_four_university_hospitals(offers: pd.DataFrame) -> None:
    """Public lung surgery is at Rigshospitalet, Aarhus, Odense and Aalborg UH, nowhere else."""
    assert _public_sites(offers, "lung", "surgery") == UNIVERSITY_HOSPITALS


def test_upper_gi_surgery_only_at_the_four_university_hospitals(offers: pd.DataFrame) -> None:
    """Public oesophagus/pancreas resections are concentrated at the four university hospitals."""
    assert _public_sites(offers, "upper_gi", "surgery") == UNIVERSITY_HOSPITALS


def test_four_centres_for_gynaecological_cancer_surgery(offers: pd.DataFrame) -> None:
    """Gynaecological cancer surgery is at the four centres for advanced ovarian cancer."""
    assert _public_sites(offers, "gynaecological", "surgery") == UNIVERSITY_HOSPITALS


def test_two_breast_surgery_sites_in_eastern_denmark(offers: pd.DataFrame) -> None:
    """Breast surgery east of the Great Belt is at Gentofte and Roskilde only."""
    east = offers[offers["region"].isin(["Hovedstaden", "Sjælland"])]
    assert _public_sites(east, "breast", "surgery") == {"GEH", "SUHR"}


def test_private_hospitals_do_no_specialised_work(offers: pd.DataFrame) -> None:
    """Private departments operate only breast or urinary cancer and never irradiate."""
    private = offers[offers["provider_type"] == "private"]
    surgery = private[private["procedure"] == "surgery"]
    assert set(surgery["collaboration"]) <= {"breast", "urinary"}
    assert "radiotherapy" not in set(private["procedure"])


def test_danish_departments_lie_in_denmark(departments: pd.DataFrame) -> None:
    """Public and private departments are in a Danish region, inside Denmark's bounding box."""
    danish = departments[departments["provider_type"].isin(["public", "private"])]
    assert danish["region"].isin(REGIONS).all()
    for column, (low, high) in DENMARK.items():
        assert danish[column].between(low, high).all(), column


def test_foreign_departments_are_in_germany_or_sweden(departments: pd.DataFrame) -> None:
    """Foreign departments have region DE (south of the border) or SE (east of the Sound)."""
    foreign = departments[departments["provider_type"] == "foreign"]
    assert set(foreign["region"]) == {"DE", "SE"}
    german = foreign[foreign["region"] == "DE"]
    swedish = foreign[foreign["region"] == "SE"]
    assert (german["latitude"] < 54.85).all()
    assert (swedish["longitude"] > 12.8).all()


def test_confirmed_entries_cite_a_source() -> None:
    """A confirmed service cites a web address; an unconfirmed one says UNCONFIRMED."""
    services = reference.services()
    assert services.loc[services["confirmed"], "source"].str.startswith("http").all()
    assert services.loc[~services["confirmed"], "source"].str.contains("UNCONFIRMED").all()
    assert services["confirmed"].any()


def test_foreign_prices_exceed_public_ones() -> None:
    """A foreign course costs more than the public one (travel and stay are paid on top)."""
    services = reference.services().merge(reference.departments(), on="department_id")
    mean = services.groupby("provider_type")["price_dkk"].mean()
    assert mean["foreign"] > mean["public"]


def test_incidence_matches_the_brief() -> None:
    """New cases a year per collaboration are the brief's figures (~26,100 in the six)."""
    cases = reference.incidence().set_index("collaboration")["new_cases_per_year"]
    assert cases.to_dict() == {
        "breast": 4900,
        "lung": 5100,
        "urinary": 7000,
        "gynaecological": 1700,
        "upper_gi": 2500,
        "lower_gi": 4900,
    }


def test_population_shares_follow_the_regions() -> None:
    """Region shares are the documented ones and population centres add up to the nation."""
    shares = reference.region_shares()
    assert shares.round(2).to_dict() == {
        "Hovedstaden": 0.32,
        "Sjælland": 0.14,
        "Syddanmark": 0.21,
        "Midtjylland": 0.23,
        "Nordjylland": 0.10,
    }
    centres = reference.population_centres()
    assert centres["weight"].sum() == pytest.approx(1.0)
    for column, (low, high) in DENMARK.items():
        assert centres[column].between(low, high).all(), column


def test_pathways_give_a_national_list_of_about_five_thousand() -> None:
    """Incidence x steps x weeks waiting gives about 5,000 waiting patients on a Monday."""
    pathways = reference.pathways()
    assert len(pathways) == len(COLLABORATIONS) * len(PROCEDURES)
    assert 4500 <= pathways["waiting"].sum() <= 5500
