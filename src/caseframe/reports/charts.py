"""The report's charts (matplotlib): the site × component coverage heatmap and the valence
chart per category. SVG text for HTML (glyphs drawn as paths, so it needs no fonts offline) and
PNG bytes for Word."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

plt.rcParams["svg.fonttype"] = "path"
plt.rcParams["svg.hashsalt"] = "caseframe"  # stable ids: the same data gives the same file

VALENCE_COLOURS = {"facilitator": "#3a7d44", "barrier": "#b23a48", "mixed": "#d9a441"}


def heatmap_figure(heatmap: pd.DataFrame, title: str):
    rows, cols = heatmap.shape
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * cols + 2), max(2.5, 0.24 * rows + 1.5)))
    values = heatmap.to_numpy(dtype=float)
    image = ax.imshow(values, aspect="auto", cmap="Blues", vmin=0)
    ax.set_xticks(range(cols), [str(c) for c in heatmap.columns], rotation=90, fontsize=7)
    ax.set_yticks(range(rows), [str(r) for r in heatmap.index], fontsize=7)
    if rows * cols <= 1200:
        top = values.max() if values.size else 0
        for (r, c), v in np.ndenumerate(values):
            if v:
                ax.text(
                    c,
                    r,
                    str(int(v)),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if v > top / 2 else "black",
                )
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="codings")
    fig.tight_layout()
    return fig


def valence_figure(counts: pd.DataFrame, title: str):
    """`counts`: one row per category (index), columns facilitator, barrier, mixed."""
    fig, ax = plt.subplots(figsize=(7.5, max(2.0, 0.35 * len(counts) + 1.2)))
    left = np.zeros(len(counts))
    labels = [str(i) if len(str(i)) <= 45 else str(i)[:44] + "…" for i in counts.index]
    for valence, colour in VALENCE_COLOURS.items():
        values = counts.get(valence, pd.Series(0, index=counts.index)).to_numpy(dtype=float)
        ax.barh(labels, values, left=left, color=colour, label=valence)
        left += values
    ax.invert_yaxis()
    ax.set_xlabel("codings", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def to_svg(fig) -> str:
    buffer = io.StringIO()
    # no RDF metadata block: it carries a timestamp and links the file does not need
    fig.savefig(
        buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
    )
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inline in HTML


def to_png(fig, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()
