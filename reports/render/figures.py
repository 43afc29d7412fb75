"""matplotlib figures as inline PNG data URIs, so a report's HTML is one self-contained file."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # files only: never open a window

import matplotlib.pyplot as plt  # the reports draw with this pyplot: Agg chosen above
import numpy as np
from matplotlib.figure import Figure


def png_data_uri(figure: Figure) -> str:
    """``figure`` as a ``data:image/png;base64,...`` URI (110 dpi); the figure is closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def bar_figure(labels: Sequence[str], values: Sequence[float], title: str, unit: str) -> str:
    """A horizontal bar chart, the first label on top, as a PNG data URI."""
    figure, axes = plt.subplots(figsize=(8, 0.3 * max(len(labels), 3) + 1))
    y = np.arange(len(labels))[::-1]
    axes.barh(y, values, color="#4c72b0")
    axes.set_yticks(y, labels, fontsize=8)
    axes.set_xlabel(unit)
    axes.set_title(title)
    figure.tight_layout()
    return png_data_uri(figure)
