"""Bundled reference data: Danish regions, hospitals, departments, services, prices and incidence.

The CSV and YAML files beside this module are the single source of the reference set. Every
hospital and service row says whether a public source in the domain brief confirms it
(``confirmed``, ``source``) or whether it is UNCONFIRMED best knowledge; docs/reference-data.md
explains each number. The loaders return fresh copies, so callers may modify what they get.
"""

from __future__ import annotations

import copy
import io
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from capacity.vocabulary import COLLABORATIONS, PROCEDURES, REGIONS

UNCONFIRMED = "UNCONFIRMED: best knowledge"


def _text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(_text(name)), dtype=str, keep_default_na=False)


def _yaml(name: str) -> dict[str, Any]:
    # Parsed once per process (the simulator asks every week); each caller gets its own copy.
    return copy.deepcopy(_parsed_yaml(name))


@cache
def _parsed_yaml(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(_text(name))
    return loaded


@cache
def _sources() -> pd.DataFrame:
    return _csv("sources.csv")


@cache
def _hospitals() -> pd.DataFrame:
    table = _csv("hospitals.csv")
    table["latitude"] = table["latitude"].astype(float)
    table["longitude"] = table["longitude"].astype(float)
    table["confirmed"] = table["confirmed"].eq("true")
    return table


@cache
def _departments() -> pd.DataFrame:
    units = _csv("departments.csv")
    table = units.merge(_hospitals(), on="hospital_code", how="left", validate="many_to_one")
    return table[
        [
            "department_id",
            "name",
            "hospital",
            "region",
            "provider_type",
            "latitude",
            "longitude",
            "hospital_code",
            "confirmed",
            "source",
        ]
    ]


@cache
def _services() -> pd.DataFrame:
    rows = _csv("services.csv")
    rows["collaboration"] = rows.pop("collaborations").str.split()
    rows["procedure"] = rows.pop("procedures").str.split()
    table = rows.explode("collaboration").explode("procedure").reset_index(drop=True)
    table["confirmed"] = table["confirmed"].eq("true")
    urls = _sources().set_index("source")["url"]
    table["source"] = table["source"].map(urls).fillna(UNCONFIRMED)

    priced = table.merge(
        prices(), on=["collaboration", "procedure"], how="left", validate="many_to_one"
    )
    provider_type = priced["department_id"].map(
        _departments().set_index("department_id")["provider_type"]
    )
    factor = provider_type.map(_yaml("prices.yaml")["provider_factor"])
    priced["price_dkk"] = (priced["price_dkk"] * factor).round(-3)

    order = {
        "department_id": {d: i for i, d in enumerate(_departments()["department_id"])},
        "collaboration": {c: i for i, c in enumerate(COLLABORATIONS)},
        "procedure": {p: i for i, p in enumerate(PROCEDURES)},
    }
    priced = priced.sort_values(list(order), key=lambda column: column.map(order[str(column.name)]))
    columns = ["department_id", "collaboration", "procedure", "price_dkk", "confirmed", "source"]
    return priced[columns].reset_index(drop=True)


def sources() -> pd.DataFrame:
    """The public sources the reference data cites: key, address and the fact taken from it."""
    return _sources().copy()


def hospitals() -> pd.DataFrame:
    """Hospitals (public, private, foreign) with region, approximate WGS84 position and source."""
    return _hospitals().copy()


def departments() -> pd.DataFrame:
    """Departments with the contract's columns plus ``hospital_code``, ``confirmed``, ``source``."""
    return _departments().copy()


def services() -> pd.DataFrame:
    """What each department offers, one row per collaboration and procedure, with price.

    ``confirmed`` is true where a source in the domain brief names this department for this
    service; ``source`` is its address, or ``UNCONFIRMED: best knowledge``. Prices are UNCONFIRMED
    order-of-magnitude values (prices.yaml), scaled by the provider type's factor.
    """
    return _services().copy()


def prices() -> pd.DataFrame:
    """UNCONFIRMED public price of one course (DKK) per collaboration and procedure."""
    table = _yaml("prices.yaml")["price_dkk"]
    return pd.DataFrame(
        [
            {"collaboration": c, "procedure": p, "price_dkk": float(price)}
            for c, by_procedure in table.items()
            for p, price in by_procedure.items()
        ]
    )


def incidence() -> pd.DataFrame:
    """New cancer cases a year in Denmark per collaboration, with year, components and source."""
    table = _csv("incidence.csv")
    table["new_cases_per_year"] = table["new_cases_per_year"].astype(int)
    table["confirmed"] = table["confirmed"].eq("true")
    return table


def pathways() -> pd.DataFrame:
    """Per collaboration and procedure: courses per new case, weeks on the list, patients waiting.

    ``waiting`` is the expected national waiting list on any Monday: new cases a year / 52 x
    ``steps_per_case`` (how many times a new case waits for this procedure, including the many
    referrals whose pre-examination finds no cancer) x ``weeks_waiting`` (mean time on the list).
    """
    table = _csv("pathways.csv")
    table["steps_per_case"] = table["steps_per_case"].astype(float)
    table["weeks_waiting"] = table["weeks_waiting"].astype(float)
    cases = incidence().set_index("collaboration")["new_cases_per_year"]
    table["new_cases_per_year"] = table["collaboration"].map(cases)
    table["waiting"] = (
        table["new_cases_per_year"] / 52.0 * table["steps_per_case"] * table["weeks_waiting"]
    )
    return table


def region_shares() -> pd.Series:
    """Share of the Danish population living in each region (sums to 1)."""
    regions = _yaml("regions.yaml")["regions"]
    shares = pd.Series({r: float(regions[r]["population_share"]) for r in REGIONS})
    return shares / shares.sum()


def population_centres() -> pd.DataFrame:
    """Towns patients live near: region, town, position and ``weight``, the national share."""
    regions = _yaml("regions.yaml")["regions"]
    shares = region_shares()
    rows = [{"region": r, **centre} for r in REGIONS for centre in regions[r]["centres"]]
    table = pd.DataFrame(rows)
    local = table["weight"] / table.groupby("region")["weight"].transform("sum")
    table["weight"] = local * table["region"].map(shares)
    return table
