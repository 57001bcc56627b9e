"""Charts for the Word reports, drawn with matplotlib (Agg, no display) in a Chinese font.

The font is looked up among the CJK fonts the machine has (Debian's fonts-noto-cjk, which
scripts/install.sh installs, or the usual Windows and macOS ones). Without one, Chinese labels would
come out as empty boxes, so no chart is drawn and chart_font() says why; the report then prints that
reason where the chart would be.
"""

import io
from functools import lru_cache

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)
BRAND = "#b3261e"
SECOND = "#1d4ed8"


@lru_cache(maxsize=1)
def chart_font() -> str | None:
    """The family of the first CJK font found, or None."""
    try:
        from matplotlib import font_manager
    except ImportError:
        return None
    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in available), None)


def missing_reason() -> str:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "（未安装 matplotlib，本报告不含图表。）"
    return "（本机未安装中文字体（如 fonts-noto-cjk），本报告不含图表。）"


def monthly_chart(monthly: list[dict]) -> bytes | None:
    """Two panels over the year's months: complaints and other work orders (bars), and the people
    reached by financial education (bars). PNG bytes, or None without a Chinese font."""
    family = chart_font()
    if family is None or not monthly:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    months = [f"{int(m['month'][5:7])}月" for m in monthly]
    positions = range(len(months))
    with plt.rc_context({"font.family": family, "font.size": 9, "axes.unicode_minus": False}):
        figure, (cases, education) = plt.subplots(1, 2, figsize=(8.6, 3.2), dpi=200)
        width = 0.4
        cases.bar(
            [p - width / 2 for p in positions],
            [m["work_orders"] for m in monthly],
            width,
            label="非投诉工单",
            color=SECOND,
        )
        cases.bar(
            [p + width / 2 for p in positions],
            [m["complaints"] for m in monthly],
            width,
            label="投诉",
            color=BRAND,
        )
        cases.set_title("月度工单与投诉 (件)")
        cases.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
        education.bar(positions, [m["education_reach"] for m in monthly], 0.6, color=BRAND)
        education.set_title("月度金融教育触达 (人次)")
        for axis in (cases, education):
            axis.set_xticks(list(positions), months, fontsize=7)
            axis.spines[["top", "right"]].set_visible(False)
            axis.grid(axis="y", color="#d9dee5", linewidth=0.6)
            axis.set_axisbelow(True)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
    return buffer.getvalue()
