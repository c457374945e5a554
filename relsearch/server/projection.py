"""Place relation vectors in 2-D: the first two principal components (PCA by SVD, numpy only)."""

from __future__ import annotations

import numpy as np


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """``(n, 2)`` coordinates of ``(n, dim)`` vectors on their first two principal axes, and the
    share of the variance each axis carries.

    Axes beyond the data's rank (one point, or identical points) are all zero. Each axis is
    oriented so that the first point (the query) has a coordinate >= 0, which keeps the picture
    from flipping between similar queries.
    """
    data = np.asarray(vectors, dtype=np.float64)
    if data.ndim != 2 or len(data) == 0:
        raise ValueError(f"expected a non-empty (n, dim) array, got shape {data.shape}")
    centred = data - data.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    coords = np.zeros((len(data), 2))
    ratios = [0.0, 0.0]
    total = float(np.sum(singular**2))
    for j in range(min(2, len(singular))):
        if total <= 0 or singular[j] ** 2 <= total * 1e-12:
            break
        column = centred @ axes[j]
        coords[:, j] = -column if column[0] < 0 else column
        ratios[j] = float(singular[j] ** 2 / total)
    return coords, ratios
