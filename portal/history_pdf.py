"""A case's full history as a PDF for the paper file (案卷): the case, the verification result,
every step with who, role, when, from where, what changed and the deadlines then, and each
event's hash so the paper copy can be checked against the JSON export."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from registry.masking import mask_text
from workflows.models import AuditEvent
from workflows.selectors.case_replay import CaseHistory, CaseVerification

# A CID font every PDF reader has for Chinese: nothing is embedded, the file stays small.
FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

BODY = ParagraphStyle("body", fontName=FONT, fontSize=8, leading=10.5, wordWrap="CJK")
SMALL = ParagraphStyle("small", parent=BODY, fontSize=6.5, leading=8.5)
TITLE = ParagraphStyle("title", parent=BODY, fontSize=15, leading=20, spaceAfter=4)
HEADING = ParagraphStyle("heading", parent=BODY, fontSize=11, leading=15, spaceBefore=6)


def _p(value, style=BODY) -> Paragraph:
    return Paragraph(escape(str(value if value not in (None, "") else "—")), style)


def _lines(rows, style=BODY) -> Paragraph:
    return Paragraph("<br/>".join(escape(str(r)) for r in rows) or "—", style)


def _hashes(history: CaseHistory) -> dict[tuple[str, int], str]:
    events = AuditEvent.objects.filter(stream__in=history.streams).values_list(
        "stream", "sequence", "hash"
    )
    return {(stream, sequence): digest for stream, sequence, digest in events}


def _reproduction(verification: CaseVerification) -> str:
    if verification.reproduces:
        return _("Re-executing the case from its recorded inputs reproduces the stored state.")
    found = [verification.mismatch.replay_problem] if verification.mismatch else []
    return "; ".join(found + verification.final_differences)


def history_pdf(history: CaseHistory, document: dict, verification: CaseVerification) -> bytes:
    instance, definition = history.instance, history.instance.definition
    buffer = io.BytesIO()
    page = landscape(A4)
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"{definition.name} {instance.business_key or instance.pk}",
        author="Fuzhu",
    )
    now = date_format(timezone.localtime(), "DATETIME_FORMAT")
    story = [
        Paragraph(escape(f"{_('Case history')} · {definition.name}"), TITLE),
        _p(
            f"{_('Case')} {instance.business_key or instance.pk} (#{instance.pk}) · "
            f"{_('Version')} {definition.version} · SHA-256 {definition.sha256} · "
            f"{_('State')} {instance.get_state_display()} · {_('Printed')} {now}"
        ),
        Spacer(1, 3 * mm),
        Paragraph(escape(_("Verification")), HEADING),
        _p(
            _("Hash chains intact (%(n)d events).") % {"n": verification.events_checked}
            if verification.intact
            else "; ".join(f"{b.stream} #{b.sequence}: {b.message}" for b in verification.breaks)
        ),
        _p(_reproduction(verification)),
        Spacer(1, 3 * mm),
        Paragraph(escape(_("Steps")), HEADING),
    ]
    hashes = _hashes(history)
    header = [
        _p("#"),
        _p(_("When")),
        _p(_("Who") + " / " + _("Role")),
        _p(_("What")),
        _p(_("From where")),
        _p(_("Data changed")),
        _p(_("Deadlines then")),
        _p(_("Recorded in")),
    ]
    rows = [header]
    for step in document["steps"]:
        digest = hashes.get((step["stream"], step["sequence"]), "")
        rows.append(
            [
                _p(step["i"] + 1),
                _p(step["when"]),
                _lines([step["who"] or _("system"), step["role"]]),
                _lines([step["what"], step["element"]]),
                _p(step["origin"]),
                _lines(
                    [
                        mask_text(f"{label}: {before} → {after}")  # a printed export: masked
                        for label, before, after, _k in step["changes"]
                    ],
                    SMALL,
                ),
                _lines(
                    [f"{d['label']}: {d['due']} ({d['text']})" for d in step["deadlines"]], SMALL
                ),
                _lines([f"{step['stream']} #{step['sequence']}", digest], SMALL),
            ]
        )
    widths = [8 * mm, 26 * mm, 30 * mm, 38 * mm, 24 * mm, 67 * mm, 44 * mm, 36 * mm]
    table = LongTable(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    if document["documents"]:
        story += [Spacer(1, 3 * mm), Paragraph(escape(_("Documents")), HEADING)]
        for d in document["documents"]:
            story.append(
                _p(f"{d['name']} · {d['when']} · {d['by']} · SHA-256 {d['sha256']}", SMALL)
            )

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawRightString(
            page[0] - 12 * mm,
            7 * mm,
            f"{definition.name} {instance.business_key or instance.pk} · {doc.page}",
        )
        canvas.restoreState()

    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
