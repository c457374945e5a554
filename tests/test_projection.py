"""``pca_2d``: the page's picture, against scikit-learn's PCA, and its degenerate cases."""

from __future__ import annotations

import numpy as np
import pytest

from relsearch.server.projection import pca_2d


def test_matches_scikit_learn_up_to_sign():
    decomposition = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((11, 32)) * np.linspace(3, 0.1, 32)
    coords, ratios = pca_2d(vectors)
    reference = decomposition.PCA(n_components=2, svd_solver="full").fit(vectors)
    expected = reference.transform(vectors)
    np.testing.assert_allclose(np.abs(coords), np.abs(expected), atol=1e-9)
    np.testing.assert_allclose(ratios, reference.explained_variance_ratio_, atol=1e-12)
    assert np.all(coords[0] >= 0)  # oriented by the query


def test_degenerate_inputs():
    coords, ratios = pca_2d(np.ones((1, 4)))
    assert coords.tolist() == [[0.0, 0.0]] and ratios == [0.0, 0.0]
    coords, ratios = pca_2d(np.ones((3, 4)))
    assert not coords.any() and ratios == [0.0, 0.0]
    line = np.outer(np.arange(4.0), np.ones(5))  # points on one line: one axis
    coords, ratios = pca_2d(line)
    assert ratios[0] == pytest.approx(1) and ratios[1] == 0 and not coords[:, 1].any()
    with pytest.raises(ValueError):
        pca_2d(np.zeros((0, 3)))
