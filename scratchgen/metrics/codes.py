"""A learned discrete code used as a classifier: how well the categories a model assigns to the
test images (InfoGAN's c1, Chen et al. 2016, Sec. 7.1: "c1 ... can be used as a classifier that
achieves 5% error rate in classifying MNIST digits by matching each category in c1 to a digit
type") tell their labels, under two ways of naming each category by a digit:

    majority     each category is named by the digit most of its images are (several categories
                 may share a digit)
    one-to-one   the naming that is a permutation and gets the most images right: the assignment
                 problem on the category x digit counts, solved by the Hungarian algorithm
                 (Kuhn 1955, Munkres 1957; `linear_assignment`, as scipy.optimize.linear_sum_assignment)

    code_classification_errors(categories, labels)   # {"majority_error", "one_to_one_error", ...}
"""
import numpy


def linear_assignment(cost):
    """The assignment of rows to columns of the cost matrix (n, m) with the least total cost,
    each row to a different column when n <= m (each column to a different row when n > m):
    (row indices, column indices), the rows in increasing order, as
    scipy.optimize.linear_sum_assignment. The Hungarian algorithm with potentials (Kuhn 1955;
    Munkres 1957; the O(n^2 m) form of Jonker & Volgenant 1987): row i joins the matching along
    a shortest augmenting path in the reduced costs cost[i, j] - u[i] - v[j] >= 0."""
    cost = _cost_matrix(cost)
    if cost.shape[0] > cost.shape[1]:
        columns, rows = linear_assignment(cost.T)
        order = numpy.argsort(rows)
        return rows[order], columns[order]
    n, m = cost.shape
    u, v = numpy.zeros(n + 1), numpy.zeros(m + 1)  # potentials; index 0 is a sentinel (1-based below)
    row_of = numpy.zeros(m + 1, numpy.int64)       # row_of[j]: the row matched to column j, 0 for none
    for i in range(1, n + 1):
        row_of[0], column = i, 0                   # the sentinel column holds the new row
        shortest = numpy.full(m + 1, numpy.inf)   # the shortest reduced path cost to each column
        previous = numpy.zeros(m + 1, numpy.int64)
        done = numpy.zeros(m + 1, bool)
        while row_of[column] != 0:                 # until the path reaches a free column
            done[column] = True
            row = row_of[column]
            reduced = cost[row - 1] - u[row] - v[1:]
            closer = ~done[1:] & (reduced < shortest[1:])
            shortest[1:][closer] = reduced[closer]
            previous[1:][closer] = column
            candidates = numpy.where(done[1:], numpy.inf, shortest[1:])
            nearest = int(numpy.argmin(candidates)) + 1
            delta = candidates[nearest - 1]
            u[row_of[done]] += delta               # keep reduced costs >= 0 and tight on the tree
            v[done] -= delta
            shortest[1:][~done[1:]] -= delta
            column = nearest
        while column != 0:                         # flip the matching along the path
            before = previous[column]
            row_of[column] = row_of[before]
            column = before
    columns = numpy.flatnonzero(row_of[1:])
    rows = row_of[1:][columns] - 1
    order = numpy.argsort(rows)
    return rows[order], columns[order]


def _cost_matrix(cost):
    array = numpy.asarray(cost)
    if array.ndim != 2 or array.dtype.kind not in "iuf":
        raise ValueError(f"linear_assignment: cost must be a 2-D array of numbers, got "
                         f"{array.ndim}-D of dtype {array.dtype}")
    if not numpy.isfinite(array).all():
        raise ValueError("linear_assignment: cost must be finite (no inf or nan)")
    return array.astype(numpy.float64)


def contingency_table(categories, labels, num_categories, num_classes):
    """counts[k, d]: how many of the images put in category k have label d."""
    categories, labels = _class_indices(categories, "categories"), _class_indices(labels, "labels")
    if categories.shape != labels.shape:
        raise ValueError(f"code_classification_errors: categories and labels must be the same length, got "
                         f"{categories.shape} and {labels.shape}")
    for values, bound, name in ((categories, num_categories, "categories"), (labels, num_classes, "labels")):
        if values.size and (values.min() < 0 or values.max() >= bound):
            raise ValueError(f"code_classification_errors: {name} must be in [0, {bound}), got values from "
                             f"{values.min()} to {values.max()}")
    counts = numpy.zeros((num_categories, num_classes), numpy.int64)
    numpy.add.at(counts, (categories, labels), 1)
    return counts


def _class_indices(values, name):
    array = numpy.asarray(values.numpy() if hasattr(values, "numpy") else values)
    if array.ndim != 1 or array.dtype.kind not in "iu" or len(array) == 0:
        raise ValueError(f"code_classification_errors: {name} must be a non-empty 1-D array of integers, got "
                         f"shape {array.shape} of dtype {array.dtype}")
    return array.astype(numpy.int64)


def code_classification_errors(categories, labels, num_categories=10, num_classes=10):
    """The error rates of the categories (N,) a model assigned to images as a classifier of their
    labels (N,) (module docstring): {"majority_error", "one_to_one_error", "majority_mapping",
    "one_to_one_mapping"}, the mappings listing the digit each category is named by."""
    counts = contingency_table(categories, labels, num_categories, num_classes)
    total = counts.sum()
    majority = counts.argmax(axis=1)
    rows, columns = linear_assignment(-counts)  # the permutation that matches the most images
    one_to_one = numpy.full(num_categories, -1, numpy.int64)  # -1: a category left without a digit
    one_to_one[rows] = columns
    return {"majority_error": float(1 - counts.max(axis=1).sum() / total),
            "one_to_one_error": float(1 - counts[rows, columns].sum() / total),
            "majority_mapping": majority.tolist(), "one_to_one_mapping": one_to_one.tolist()}
