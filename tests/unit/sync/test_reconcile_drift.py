"""Drift detection is a pure comparison of PostgreSQL's versions with what each store holds."""

from __future__ import annotations

from sync.reconcile import Drift, Stored, find_drift

OK = Stored(3, True)


def test_no_drift_when_everything_matches() -> None:
    assert find_drift({"a": (3, True)}, {"a": OK}, {"a": OK}) == []


def test_missing_version_and_tampered_documents() -> None:
    drifts = find_drift({"a": (3, True), "b": (5, True), "c": (1, True)},
                        {"b": Stored(4, True), "c": Stored(1, False)}, {"a": OK, "b": Stored(5, True),
                                                                          "c": Stored(1, True)})
    assert set(drifts) == {Drift("a", "search", "missing"), Drift("b", "search", "version"),
                           Drift("c", "search", "tampered")}


def test_inactive_products_leave_search_but_keep_a_read_model() -> None:
    drifts = find_drift({"a": (3, False)}, {"a": OK}, {})
    assert set(drifts) == {Drift("a", "search", "inactive"), Drift("a", "read_model", "missing")}


def test_documents_of_unknown_products_are_orphans() -> None:
    assert set(find_drift({}, {"z": OK}, {"z": OK})) == {Drift("z", "search", "orphan"),
                                                        Drift("z", "read_model", "orphan")}
