"""A learned discrete code as a classifier (scratchgen/metrics/codes.py): the Hungarian
algorithm's assignment has the least cost of all assignments (brute force over permutations,
square and rectangular, with ties), and the majority and one-to-one error rates are those counted
by hand; bad input is refused naming the function and the argument."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchgen.metrics import code_classification_errors, contingency_table, linear_assignment


def brute_force_least_cost(cost):
    """The least total cost of any assignment of min(n, m) rows to distinct columns."""
    n, m = cost.shape
    if n > m:
        return brute_force_least_cost(cost.T)
    return min(cost[np.arange(n), list(columns)].sum() for columns in itertools.permutations(range(m), n))


@st.composite
def cost_matrices(draw):
    n, m = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    if draw(st.booleans()):  # small integers: many ties between assignments
        values = st.integers(-3, 3)
    else:
        values = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
    return np.array(draw(st.lists(values, min_size=n * m, max_size=n * m)), np.float64).reshape(n, m)


@settings(max_examples=300, deadline=None)
@given(cost_matrices())
def test_the_assignment_has_the_least_cost_of_all_assignments(cost):
    rows, columns = linear_assignment(cost)
    assert len(rows) == len(columns) == min(cost.shape)
    assert len(set(rows.tolist())) == len(rows) and len(set(columns.tolist())) == len(columns)  # one to one
    assert rows.tolist() == sorted(rows.tolist())
    assert cost[rows, columns].sum() == pytest.approx(brute_force_least_cost(cost), abs=1e-9)


def test_a_known_assignment_and_an_integer_matrix():
    cost = np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]])  # the classic example: 1 + 2 + 2 = 5
    rows, columns = linear_assignment(cost)
    assert rows.tolist() == [0, 1, 2] and columns.tolist() == [1, 0, 2]
    rows, columns = linear_assignment(np.eye(10)[::-1] * -1)  # the anti-diagonal
    assert columns.tolist() == list(range(9, -1, -1))


def test_a_ten_by_ten_assignment_is_fast_and_optimal_where_brute_force_is_not_an_option():
    rng = np.random.default_rng(0)
    permutation = rng.permutation(10)
    counts = rng.integers(0, 5, (10, 10))
    counts[np.arange(10), permutation] += 100  # one matching far better than any other
    rows, columns = linear_assignment(-counts)
    assert columns.tolist() == permutation.tolist()


def test_majority_and_one_to_one_errors_as_counted_by_hand():
    categories = np.array([0, 0, 0, 1, 1, 1])
    labels = np.array([5, 5, 5, 5, 5, 6])
    # majority: both categories name digit 5, 5 of 6 right; one-to-one: 0 -> 5 (3 right), 1 -> 6 (1 right)
    found = code_classification_errors(categories, labels, num_categories=2, num_classes=10)
    assert found["majority_error"] == pytest.approx(1 / 6) and found["majority_mapping"] == [5, 5]
    assert found["one_to_one_error"] == pytest.approx(2 / 6) and found["one_to_one_mapping"] == [5, 6]
    assert contingency_table(categories, labels, 2, 10)[1].tolist() == [0, 0, 0, 0, 0, 2, 1, 0, 0, 0]


def test_a_permuted_classifier_has_no_error_under_either_naming():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 500)
    permutation = rng.permutation(10)
    found = code_classification_errors(permutation[labels], labels)
    assert found["majority_error"] == 0 and found["one_to_one_error"] == 0
    assert [found["one_to_one_mapping"][permutation[d]] for d in range(10)] == list(range(10))


def test_one_to_one_is_never_better_than_majority():
    rng = np.random.default_rng(2)
    for _ in range(20):
        found = code_classification_errors(rng.integers(0, 10, 200), rng.integers(0, 10, 200))
        assert found["one_to_one_error"] >= found["majority_error"] - 1e-12


@pytest.mark.parametrize("call, message", [
    (lambda: linear_assignment(np.zeros(3)), "linear_assignment: cost must be a 2-D array of numbers"),
    (lambda: linear_assignment([["a"]]), "linear_assignment: cost must be a 2-D array of numbers"),
    (lambda: linear_assignment([[0.0, np.nan]]), "linear_assignment: cost must be finite"),
    (lambda: code_classification_errors([0, 1], [0]), "categories and labels must be the same length"),
    (lambda: code_classification_errors([0, 10], [0, 1]), r"categories must be in \[0, 10\)"),
    (lambda: code_classification_errors([0, 1], [0.0, 1.0]), "labels must be a non-empty 1-D array of integers"),
    (lambda: code_classification_errors([], []), "categories must be a non-empty 1-D array of integers"),
])
def test_bad_input_names_the_function_and_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()
