"""The market as the bureau sees it, ``/bureau/market``: posts, matches, contact
requests, consents and deals per week and per category, deals per 100 posts beside
Jiaxing's figure, and the median asking price of the top products as a chart;
``/bureau/market.csv`` and ``/bureau/market.xlsx`` export the same tables."""
from __future__ import annotations

import io

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from openpyxl import Workbook

from mailbox import market_chart, market_stats
from ruralinfo import exports
from ruralinfo.accounts import roles
from ruralinfo.timeutil import local_today
from ruralinfo.web import guard_area

bp = Blueprint("bureau_market", __name__)
guard_area(bp, (roles.STAFF, roles.APPROVER, roles.ADMIN))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period() -> int:
    return market_stats.clean_period(request.args.get("weeks"))


def _locale() -> str:
    return str(get_locale() or "zh")


def category_label(category) -> str:
    return category.label(_locale()) if category is not None else _("Unclassified")


def _price_unit() -> str:
    return _("yuan/kg")


@bp.get("/market", strict_slashes=False)
def market():
    weeks = _period()
    summary = market_stats.summary(weeks)
    price_weeks, prices = market_stats.median_prices()
    labels = [week.label.partition("-")[2] for week in price_weeks]  # W38: the table below has the year
    chart = market_chart.line_chart(
        [market_chart.Series(one.product.label(_locale()), one.medians) for one in prices], labels,
        title=_("Median asking price per week, %(unit)s", unit=_price_unit()), unit=_price_unit())
    return render_template("bureau/market.html", summary=summary, weeks=weeks, periods=market_stats.PERIODS,
                           prices=prices, price_weeks=price_weeks, chart=chart, category_label=category_label,
                           locale=_locale(), zone=current_app.config["TIMEZONE"])


# --- exports ----------------------------------------------------------------------------------

def _measure_header() -> list[str]:
    return [_("Sell posts"), _("Buy posts"), _("Posts"), _("Matches"), _("Contact requests"), _("Consents"),
            _("Deals"), _("Deals per 100 posts")]


def _measures(counts: market_stats.Counts) -> list[object]:
    ratio = counts.deals_per_100
    return [counts.sell, counts.buy, counts.posts, counts.matches, counts.contacts, counts.consents, counts.deals,
            float(ratio) if ratio is not None else ""]


def _zone_header(text: str) -> str:
    return f"{text} ({current_app.config['TIMEZONE']})"


def week_table(summary: market_stats.Summary) -> tuple[list[str], list[list[object]]]:
    header = [_("Week"), _zone_header(_("From")), _zone_header(_("To")), *_measure_header()]
    rows = [[week.label, exports.local_time(week.utc_start), exports.local_time(week.utc_end),
             *_measures(summary.by_week[week.start])] for week in summary.weeks]
    rows.append([_("All weeks"), exports.local_time(summary.weeks[0].utc_start),
                 exports.local_time(summary.weeks[-1].utc_end), *_measures(summary.total)])
    return header, rows


def category_table(summary: market_stats.Summary) -> tuple[list[str], list[list[object]]]:
    header = [_("Category"), *_measure_header()]
    rows = [[category_label(category), *_measures(counts)] for category, counts in summary.by_category]
    rows.append([_("All categories"), *_measures(summary.total)])
    return header, rows


def price_table(price_weeks, prices) -> tuple[list[str], list[list[object]]]:
    header = [_("Product"), _("Week"), _zone_header(_("From")),
              _("Median asking price (%(unit)s)", unit=_price_unit()), _("Priced sell posts")]
    rows = [[one.product.label(_locale()), week.label, exports.local_time(week.utc_start),
             float(median) if median is not None else "", count]
            for one in prices for week, median, count in zip(price_weeks, one.medians, one.priced)]
    return header, rows


def _tables(weeks: int):
    summary = market_stats.summary(weeks)
    price_weeks, prices = market_stats.median_prices()
    reference = [_("Deals per 100 posts in Jiaxing (reference)"), float(summary.reference)]
    return [(_("Weeks"), *week_table(summary)), (_("Categories"), *category_table(summary)),
            (_("Median prices"), *price_table(price_weeks, prices))], reference


def _filename(weeks: int, ext: str) -> str:
    return f"market-{local_today().isoformat()}-{weeks}w.{ext}"


@bp.get("/market.csv")
def market_csv():
    """The three tables one after the other, a blank line between (UTF-8 with a BOM)."""
    weeks = _period()
    tables, reference = _tables(weeks)
    parts = []
    for index, (_title, header, rows) in enumerate(tables):
        body = exports.csv_bytes(header, rows)
        parts.append(body if index == 0 else b"\r\n" + body[len("\ufeff".encode()):])
    parts.append(b"\r\n" + exports.csv_bytes(reference, [])[len("\ufeff".encode()):])
    return Response(b"".join(parts), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={_filename(weeks, 'csv')}", "Cache-Control": "no-store"})


@bp.get("/market.xlsx")
def market_xlsx():
    """One sheet a table; every cell through ``exports.safe_cell`` (no formula ever runs)."""
    weeks = _period()
    tables, reference = _tables(weeks)
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in tables:
        sheet = book.create_sheet(title[:31])
        for row in [header, *rows]:
            sheet.append([exports.safe_cell(cell) for cell in row])
    book[tables[0][0][:31]].append([])
    book[tables[0][0][:31]].append([exports.safe_cell(cell) for cell in reference])
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename={_filename(weeks, 'xlsx')}", "Cache-Control": "no-store"})
