"""The print view a council can read: printed to PDF in headless Chromium (A4 landscape), read back:
the cards, the by-queue table, the charts with their tables, the definitions, the version and
the checksum are on its pages, in Swedish. PRINT_SHOTS=DIR keeps the PDF, each page as a PNG,
and the Month page and the print view at 1440 and 390 px there (docs/screenshots/quality holds
the README's).
"""

from __future__ import annotations

import os
import struct
import unicodedata
import zlib
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from servicedesk.reports.models import Report
from tests.browser.chromium import sign_in
from tests.browser.test_accessibility import PASSWORD

#: A browser run with a demo organisation: make test-all and CI.
pytestmark = pytest.mark.slow


def test_the_print_view_prints_to_a_pdf_with_everything_on_it(
    chromium, live_app, live_server, demo, tmp_path
):
    folder = Path(os.environ.get("PRINT_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    month, version = demo["month"], demo["version"]
    with Session(live_app.extensions["servicedesk.engine"]) as db:
        report = db.scalars(
            sa.select(Report).where(
                Report.organisation_id == demo["org_id"],
                Report.month == month,
                Report.version == version,
            )
        ).one()
        sha = report.sha256
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, locale="sv-SE")
    page = context.new_page()
    sign_in(page, live_server, "kvalitet@demo.se", PASSWORD)
    url = f"{live_server}/reports/{month}/v{version}/print"
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/month?month={month}")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(folder / f"month-{width}.png"), full_page=True)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(folder / f"print-{width}.png"), full_page=True)
    page.emulate_media(media="print")
    pdf_path = folder / "print.pdf"
    # The page's own @page rule decides: A4 landscape, so the by-queue table fits.
    page.pdf(path=str(pdf_path), print_background=True, prefer_css_page_size=True)
    context.close()
    reader = pypdf.PdfReader(pdf_path)
    pages = [p.extract_text() or "" for p in reader.pages]
    # NFKC: Chromium's fonts print "fi" as a ligature, which the text then holds as one letter.
    text = unicodedata.normalize("NFKC", " ".join(" ".join(pages).split()))
    assert 2 <= len(pages) <= 12, len(pages)
    for expected in (
        "Demo kommun",
        "Inkommande samtal",
        "Servicenivå",
        "Enkelhet via telefon",
        "Per kö",
        "Telefon: direkta svar och servicenivå",  # a chart's title, and its table
        "Definitioner",
        "Direkta svar som andel av inkommande samtal (KKiK).",
        f"Version {version}",
    ):
        assert expected in text, expected
    assert sha[:16] in text.replace(" ", "")
    # A4 landscape, and nothing wider than the page: the by-queue table's last column is on it.
    assert all(abs(float(p.mediabox.width) - 842) < 2 for p in reader.pages)
    assert "Tydlighet i e-postsvar" in pages[0] or "Tydlighet i e-postsvar" in pages[1]
    document = pypdfium2.PdfDocument(str(pdf_path))
    for n in range(len(document)):
        bitmap = document[n].render(scale=1.3, rev_byteorder=True)
        _png(folder / f"print-page{n + 1}.png", bitmap)
    document.close()


def _png(path: Path, bitmap: Any) -> None:
    """A rendered page as a PNG (RGBA rows, zlib): no imaging library needed to look at it."""
    width, height, stride = bitmap.width, bitmap.height, bitmap.stride
    data = bytes(bitmap.buffer)
    channels = bitmap.n_channels
    rows = b"".join(
        b"\x00" + data[y * stride : y * stride + width * channels] for y in range(height)
    )
    colour = {3: 2, 4: 6}[channels]

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )
