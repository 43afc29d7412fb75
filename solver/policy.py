"""The configurable tier-4 policy: how kapacitet ranks options that tie on tiers 1-3."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

CATEGORIES: tuple[str, ...] = (
    "keep",
    "home_department",
    "public_home_region",
    "public_other_region",
    "private",
    "foreign",
)

#: Offer modes of the workflow (``policy.offers``).
OFFERS: tuple[str, ...] = ("single", "ranked")


class PolicyError(ValueError):
    """A policy file or mapping that cannot be used, with the YAML path of the problem."""


@dataclass(frozen=True)
class Policy:
    """Tier-4 preferences: category order, then weighted travel, waiting days and price.

    ``categories`` lists the option categories best first. Within a category an option costs
    ``per_km`` points per km of travel, ``per_day`` per day from today, ``per_10k_dkk`` per
    10,000 DKK of price; points are integers after rounding.
    """

    categories: tuple[str, ...] = CATEGORIES
    per_km: float = 2.0
    per_day: float = 1.0
    per_10k_dkk: float = 1.0
    allow_cross_region: bool = True
    allow_private: bool = True
    allow_foreign: bool = True
    max_travel_km: float | None = None
    #: How offers are made in the workflow (the solver's tiers never read it): ``single`` (one
    #: offer per patient a week, a decliner is booked at home) or ``ranked`` (a decliner is
    #: offered the next-best nearer option within days, the same week; see docs/policy.md).
    offers: str = "single"
    source: str = field(default="built-in default", compare=False)

    def category_rank(self, category: str) -> int:
        """Position of a category in the preference order (0 = best)."""
        return self.categories.index(category)

    def to_dict(self) -> dict[str, Any]:
        """The policy as the mapping its YAML file holds."""
        return {
            "version": 1,
            "categories": list(self.categories),
            "points": {
                "per_km": self.per_km,
                "per_day": self.per_day,
                "per_10k_dkk": self.per_10k_dkk,
            },
            "allow": {
                "cross_region": self.allow_cross_region,
                "private": self.allow_private,
                "foreign": self.allow_foreign,
            },
            "max_travel_km": self.max_travel_km,
            "offers": self.offers,
        }


def _number(value: Any, path: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise PolicyError(f"{path}: expected a number >= {minimum:g}, got {value!r}")
    return float(value)


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{path}: expected true or false, got {value!r}")
    return value


def policy_from_mapping(data: dict[str, Any], source: str = "mapping") -> Policy:
    """A policy from a parsed YAML/JSON mapping; unknown keys and bad values raise PolicyError."""
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: expected a mapping at the top level")
    known = {"version", "categories", "points", "allow", "max_travel_km", "offers"}
    for key in data:
        if key not in known:
            raise PolicyError(f"{source}: {key}: unknown key (expected one of {sorted(known)})")
    kwargs: dict[str, Any] = {"source": source}
    if "categories" in data:
        cats = data["categories"]
        if not isinstance(cats, list) or sorted(cats) != sorted(CATEGORIES):
            raise PolicyError(
                f"{source}: categories: expected an ordering of {list(CATEGORIES)}, got {cats!r}"
            )
        kwargs["categories"] = tuple(cats)
    points = data.get("points") or {}
    for key in points:
        if key not in ("per_km", "per_day", "per_10k_dkk"):
            raise PolicyError(f"{source}: points.{key}: unknown key")
        kwargs[key] = _number(points[key], f"{source}: points.{key}")
    allow = data.get("allow") or {}
    for key in allow:
        if key not in ("cross_region", "private", "foreign"):
            raise PolicyError(f"{source}: allow.{key}: unknown key")
        kwargs[f"allow_{key}"] = _flag(allow[key], f"{source}: allow.{key}")
    if data.get("max_travel_km") is not None:
        kwargs["max_travel_km"] = _number(data["max_travel_km"], f"{source}: max_travel_km")
    if "offers" in data:
        if data["offers"] not in OFFERS:
            raise PolicyError(
                f"{source}: offers: expected one of {list(OFFERS)}, got {data['offers']!r}"
            )
        kwargs["offers"] = data["offers"]
    return Policy(**kwargs)


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy in a YAML file, or kapacitet's documented default when ``path`` is None."""
    if path is None:
        text = resources.files("solver.data").joinpath("default_policy.yaml").read_text("utf-8")
        source = "default_policy.yaml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from exc
    return policy_from_mapping(data, source)


POLICY_FIELDS = tuple(f.name for f in fields(Policy))
