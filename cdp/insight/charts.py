"""PNG charts of insight views (matplotlib, drawn off-screen)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdp.insight.views import View


def write_png(view: View, rows: pd.DataFrame, path: Path) -> Path:
    """Draw ``rows`` as ``view``'s chart into ``path`` (a .png file); returns the path."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise ValueError(
            "--png needs matplotlib: install it (pip install matplotlib) or leave --png out"
        ) from None
    matplotlib.use("Agg")  # no display: files only
    from matplotlib import pyplot as plt

    figure, ax = plt.subplots(figsize=(10, 6))
    try:
        view.draw(rows, ax)
        ax.set_title(view.title)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)
    return path
