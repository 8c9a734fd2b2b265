"""Offline evaluation of recommendations on a time holdout: precision@k, recall@k, coverage,
and the popularity baseline, on hand-counted frames."""

import pandas as pd
import pytest

from cdp.insight.evaluation import evaluate, new_purchases, popularity_baseline, score


def lines(*pairs: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["one_id", "sku"])


BEFORE = lines(("P1", "A"), ("P2", "A"), ("P2", "B"), ("P3", "B"), ("P3", "C"), ("P4", "A"))
AFTER = lines(("P1", "A"), ("P1", "C"), ("P2", "D"), ("P3", "A"), ("P5", "A"))


def test_only_items_new_to_the_person_count():
    assert sorted(map(tuple, new_purchases(BEFORE, AFTER).to_numpy())) == [
        ("P1", "C"),
        ("P2", "D"),
        ("P3", "A"),
        ("P5", "A"),
    ]


def test_the_baseline_skips_items_the_person_owns():
    top = popularity_baseline(BEFORE, ["P1", "P3"], k=2)
    assert list(map(tuple, top.to_numpy())) == [("P1", "B", 1), ("P1", "C", 2), ("P3", "A", 1)]


def test_scores_count_hits_in_the_top_k_over_holdout_people():
    holdout = lines(("P1", "C"), ("P2", "D"), ("P3", "A"))
    recommended = pd.DataFrame(
        [("P1", "C", 1), ("P1", "B", 2), ("P2", "C", 1), ("P2", "D", 3), ("P9", "A", 1)],
        columns=["one_id", "sku", "recommendation_rank"],
    )
    scores = score("mart", recommended, holdout, catalogue=4, k=2)
    # one hit (P1-C) in 2 x 3 slots; P2's D is beyond k; P9 is not in the holdout
    assert (scores.people, scores.precision, scores.recall) == (3, pytest.approx(1 / 6), 1 / 3)
    assert scores.coverage == 2 / 4  # B and C
    assert "precision@2 0.1667  recall@2 0.3333" in scores.line(2)


def test_evaluate_scores_people_with_history_against_the_baseline():
    recommended = pd.DataFrame(
        [("P1", "C", 1), ("P2", "D", 1), ("P3", "A", 1)],
        columns=["one_id", "sku", "recommendation_rank"],
    )
    mart, baseline = evaluate(recommended, BEFORE, AFTER, k=1)
    # P5 bought only after the cutoff: no history, not scored
    assert (mart.people, mart.recall, baseline.people) == (3, 1.0, 3)
    # baseline: P1 gets B (most popular unowned after A); P2 gets C; P3 gets A -> one hit
    assert baseline.recall == pytest.approx(1 / 3)
