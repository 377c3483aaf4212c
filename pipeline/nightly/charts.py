"""The charts of bwv's reports: matplotlib figures drawn on the Agg canvas (no pyplot, no
display) and returned as base64 PNG, for pages that embed them as ``data:`` URIs."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: The longest chart label; the tables beside a chart hold the whole text.
LABEL_CHARS = 60


def label(text: str) -> str:
    """A chart label: one line, short (the tables hold the whole text)."""
    text = " ".join(str(text).split())
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def png(fig: Figure) -> str:
    """A figure as base64 PNG; ``Figure.savefig`` uses the Agg canvas, no pyplot, no display."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def barh(labels: Sequence[str], stacks: Mapping[str, Sequence[float]], *, xlabel: str,
          integer: bool, legend: bool) -> str:
    """Horizontal bars, one per label, stacked by series; values written on single bars."""
    fig = Figure(figsize=(8, 1.2 + 0.38 * len(labels)), layout="constrained")
    ax = fig.add_subplot()
    left = [0.0] * len(labels)
    for series, values in stacks.items():
        bars = ax.barh(range(len(labels)), values, left=left, label=series)
        if len(stacks) == 1:
            ax.bar_label(bars, fmt="%d" if integer else "%.1f", padding=3)
        left = [a + b for a, b in zip(left, values, strict=True)]
    # parse_math=False: a "$" in a file's reason must not be read as mathtext.
    ax.set_yticks(range(len(labels)), labels=[label(s) for s in labels], parse_math=False)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if integer:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(x=0.08)
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return png(fig)


def hours_chart(hours_by_hour: Sequence[float]) -> str:
    """Hours of footage finished in each UTC hour of a day, as bars."""
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(24), hours_by_hour, color="#23597a")
    ax.set_xticks(range(0, 24, 2), labels=[f"{h:02d}:00" for h in range(0, 24, 2)])
    ax.set_xlabel("hour the files finished (UTC)")
    ax.set_ylabel("hours of footage")
    ax.grid(axis="y", alpha=0.3)
    return png(fig)
