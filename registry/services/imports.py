"""Importing persons and certificates from .xlsx/CSV: upload → check (per-row report) → commit.

Files are streamed (openpyxl read-only, the csv module), rows are checked and stored in chunks,
so memory stays flat for tens of thousands of rows; counters on the batch show progress. The
commit upserts by citizen ID: importing the same file again changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from pathlib import Path

from celery import current_app
from django.db import connections, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from workflows.exceptions import Conflict, InvalidInput, NotAllowed, NotFound

from .. import conf
from ..imports.apply import apply_rows
from ..imports.checks import RowContext, annotate_chunk
from ..imports.columns import BY_KEY
from ..imports.readers import (
    FileRefused,
    Progress,
    csv_rows,
    detect_encoding,
    header_check,
    sniff,
    xlsx_rows,
)
from ..imports.rows import row_clean, row_is_empty
from ..models import (
    ImportBatch,
    ImportFormat,
    ImportRow,
    ImportRowOutcome,
    ImportState,
    RegistryEventKind,
)
from .access import Reach, reach_for
from .audit import registry_event_append, subject_of

logger = logging.getLogger(__name__)


def _require_import_role(reach: Reach) -> None:
    if not (reach.is_superuser or reach.paths(conf.get("IMPORT_ROLES"))):
        raise NotAllowed(gettext("Only county staff import persons and certificates."))


def _rows(batch: ImportBatch, progress: Progress):
    path = Path(batch.stored_file)
    if batch.file_format == ImportFormat.XLSX:
        return xlsx_rows(path, progress)
    return csv_rows(path, batch.encoding, progress)


def _header(rows) -> dict[str, int]:
    first = next(rows, None)
    if first is None or row_is_empty(first[1]):
        raise FileRefused(gettext("The first row is empty: it must hold the column names."))
    return header_check(first[1])


def import_batch_create(*, user, file_name: str, chunks) -> ImportBatch:
    """Store an upload and check it as a whole (kind, encoding, header row) at once; the rows
    are checked in the background. A refused file leaves nothing behind."""
    reach = reach_for(user)
    _require_import_role(reach)
    limit = conf.get("IMPORT_MAX_BYTES")
    target = conf.import_dir() / f"{uuid.uuid4().hex}{Path(file_name).suffix.lower()[:8]}"
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise InvalidInput(
                    f"the file is larger than {limit:,} bytes", {"file": ["too big"]}
                )
            digest.update(chunk)
            out.write(chunk)
    try:
        file_format = sniff(target, file_name)
        encoding = detect_encoding(target) if file_format == ImportFormat.CSV else ""
        batch = ImportBatch(
            uploaded_by=user,
            file_name=file_name[:255],
            stored_file=str(target),
            sha256=digest.hexdigest(),
            size=size,
            file_format=file_format,
            encoding=encoding,
        )
        rows = _rows(batch, Progress())
        try:
            _header(rows)
        finally:
            rows.close()
    except FileRefused as refused:
        target.unlink(missing_ok=True)
        raise InvalidInput(refused.message, {"file": [refused.message]}) from None
    batch.save()
    _dispatch(batch.pk, "check")
    batch.refresh_from_db()
    return batch


def _dispatch(batch_id: int, phase: str) -> None:
    runner = conf.get("IMPORT_RUNNER")
    if runner == "inline":
        import_batch_run(batch_id=batch_id, phase=phase)
    elif runner == "celery":
        # By the task's name: the task module calls this one, so importing it here would tie
        # the two in a circle.
        transaction.on_commit(
            lambda: current_app.send_task("registry.import_run", args=(batch_id, phase))
        )
    else:
        transaction.on_commit(
            lambda: threading.Thread(
                target=_in_thread, args=(batch_id, phase), daemon=True, name=f"import-{batch_id}"
            ).start()
        )


def _in_thread(batch_id: int, phase: str) -> None:
    try:
        import_batch_run(batch_id=batch_id, phase=phase)
    finally:
        connections.close_all()


def import_batch_run(*, batch_id: int, phase: str) -> None:
    """The background half: ``check`` or ``commit``. A failure is recorded on the batch."""
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        if phase == "check":
            _check(batch)
        else:
            _commit(batch)
    except FileRefused as refused:
        ImportRow.objects.filter(batch=batch).delete()
        _finish(batch, ImportState.REFUSED, refused.message)
        _forget_file(batch)
    except Exception as exc:
        logger.exception("import batch %s failed in %s", batch_id, phase)
        if phase == "check":
            message = gettext("The check stopped with an error (%(error)s); ask the administrator.")
        else:
            message = gettext(
                "The import stopped with an error (%(error)s); ask the administrator."
            )
        _finish(batch, ImportState.FAILED, message % {"error": exc})


def _forget_file(batch: ImportBatch) -> None:
    if batch.stored_file:
        Path(batch.stored_file).unlink(missing_ok=True)
        batch.stored_file = ""
        batch.save(update_fields=["stored_file"])


def _finish(batch: ImportBatch, state: str, message: str = "") -> None:
    batch.state, batch.message = state, message
    batch.save(update_fields=["state", "message"])


def _check(batch: ImportBatch) -> None:
    _finish(batch, ImportState.CHECKING)
    progress = Progress()
    rows = _rows(batch, progress)
    chunk_size = conf.get("IMPORT_CHUNK_ROWS")
    context = RowContext.build(reach_for(batch.uploaded_by))
    today = timezone.localdate()
    try:
        positions = _header(rows)
        pending: list[ImportRow] = []
        empty_row = None
        for number, cells in rows:
            if row_is_empty(cells):
                empty_row = empty_row or number
                continue
            if empty_row is not None:
                raise FileRefused(
                    gettext(
                        "Row %(empty)s is empty but row %(row)s holds data: remove the empty "
                        "rows between data rows (or the second table below the first) and "
                        "upload again."
                    )
                    % {"empty": empty_row, "row": number}
                )
            data, problems = row_clean(cells, positions, today=today)
            pending.append(
                ImportRow(
                    batch=batch,
                    row_number=number,
                    citizen_id=data.get("citizen_id", "")[:32],
                    data=data,
                    problems=problems,
                )
            )
            if len(pending) >= chunk_size:
                _store(batch, pending, context, progress)
                pending = []
        _store(batch, pending, context, progress)
    finally:
        rows.close()
    if batch.rows_read == 0:
        raise FileRefused(gettext("The file has no data rows below the header row."))
    _mark_duplicates(batch)
    _forget_file(batch)  # the rows hold what the commit needs; no copy of the file lingers
    batch.checked_at = timezone.now()
    batch.progress_done = batch.progress_total
    batch.state = ImportState.CHECKED
    batch.save()


def _store(batch: ImportBatch, rows: list[ImportRow], context, progress: Progress) -> None:
    if rows:
        annotate_chunk(rows, context)
        for row in rows:
            row.outcome = ImportRowOutcome.INVALID if row.problems else ImportRowOutcome.PENDING
        with transaction.atomic():
            ImportRow.objects.bulk_create(rows)
    invalid = sum(1 for r in rows if r.problems)
    batch.rows_read += len(rows)
    batch.rows_invalid += invalid
    batch.rows_valid += len(rows) - invalid
    batch.progress_done, batch.progress_total = progress.done, max(progress.total, progress.done)
    batch.save(
        update_fields=["rows_read", "rows_invalid", "rows_valid", "progress_done", "progress_total"]
    )


def _mark_duplicates(batch: ImportBatch) -> None:
    """Every row of a citizen ID that appears more than once is refused, naming the others."""
    duplicated = (
        ImportRow.objects.filter(batch=batch)
        .exclude(citizen_id="")
        .values("citizen_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("citizen_id", flat=True)
    )
    header = BY_KEY["citizen_id"].header
    for citizen_id in duplicated.iterator():
        rows = list(ImportRow.objects.filter(batch=batch, citizen_id=citizen_id))
        numbers = "、".join(str(r.row_number) for r in rows)
        message = gettext("The same citizen ID is in rows %(rows)s.") % {"rows": numbers}
        for row in rows:
            if not row.problems:
                batch.rows_valid -= 1
                batch.rows_invalid += 1
            row.problems = [
                *row.problems,
                {"column": header, "message": message},
            ]
            row.outcome = ImportRowOutcome.INVALID
        ImportRow.objects.bulk_update(rows, ["problems", "outcome"])


def import_batch_commit(*, user, batch: ImportBatch) -> ImportBatch:
    """ "Import all valid rows": refused rows stay out; the work runs in the background."""
    reach = reach_for(user)
    _require_import_role(reach)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.uploaded_by_id != user.pk and not reach.is_superuser:
            raise NotFound(gettext("No such import."))
        if batch.state != ImportState.CHECKED:
            raise Conflict(
                gettext("The import of %(file)s is %(state)s: it cannot be committed.")
                % {"file": batch.file_name, "state": batch.get_state_display()}
            )
        batch.state = ImportState.COMMITTING
        batch.committed_by = user
        batch.progress_done, batch.progress_total = 0, batch.rows_valid
        batch.save()
    _dispatch(batch.pk, "commit")
    batch.refresh_from_db()
    return batch


def _save_outcomes(rows: list[ImportRow]) -> None:
    """One UPDATE per outcome (bulk_update's CASE over 1,000 rows costs far more)."""
    by_outcome: dict[str, list[int]] = {}
    for row in rows:
        by_outcome.setdefault(row.outcome, []).append(row.pk)
    for outcome, pks in by_outcome.items():
        ImportRow.objects.filter(pk__in=pks).update(outcome=outcome)


def _commit(batch: ImportBatch) -> None:
    chunk_size = conf.get("IMPORT_CHUNK_ROWS")
    last = 0
    while True:
        chunk = list(
            ImportRow.objects.filter(
                batch=batch, outcome=ImportRowOutcome.PENDING, pk__gt=last
            ).order_by("pk")[:chunk_size]
        )
        if not chunk:
            break
        last = chunk[-1].pk
        with transaction.atomic():
            counts = apply_rows(chunk, actor=batch.committed_by)
            _save_outcomes(chunk)
            batch.rows_created += counts["created"]
            batch.rows_updated += counts["updated"]
            batch.rows_unchanged += counts["unchanged"]
            batch.progress_done += len(chunk)
            batch.save(
                update_fields=["rows_created", "rows_updated", "rows_unchanged", "progress_done"]
            )
    with transaction.atomic():
        batch.state, batch.committed_at = ImportState.COMMITTED, timezone.now()
        batch.save(update_fields=["state", "committed_at"])
        registry_event_append(
            actor=batch.committed_by,
            kind=RegistryEventKind.IMPORT_COMMITTED,
            subject=subject_of(batch),
            payload={
                "file_name": batch.file_name,
                "sha256": batch.sha256,
                "created": batch.rows_created,
                "updated": batch.rows_updated,
                "unchanged": batch.rows_unchanged,
                "refused": batch.rows_invalid,
            },
        )
