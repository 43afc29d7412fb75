"""``offers`` in the policy file: read, defaulted to ``single``, validated."""

from __future__ import annotations

import pytest

from solver.policy import Policy, PolicyError, load_policy, policy_from_mapping


def test_default_policy_offers_single() -> None:
    policy = load_policy()
    assert policy.offers == "single"
    assert policy == Policy()
    assert policy.to_dict()["offers"] == "single"


def test_ranked_is_read() -> None:
    assert policy_from_mapping({"offers": "ranked"}).offers == "ranked"


def test_bad_offers_value_is_refused() -> None:
    with pytest.raises(PolicyError, match="offers"):
        policy_from_mapping({"offers": "weekly"})
