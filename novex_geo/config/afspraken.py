"""The words of an afspraak in the annotations file: its columns, the BOB phases an issue moves
through, and its statuses. Read by the annotations reader and by the voortgangsmeter."""

from __future__ import annotations

__all__ = ["AFSPRAAK_COLUMNS", "AFSPRAKEN_TABLE", "BOB_FASEN", "CLOSED", "STATUSES"]

# optional columns: files written before afspraken existed have none of them (eigenaar, who
# carries an afspraak, is a column of every annotations file)
AFSPRAAK_COLUMNS = ["afspraak", "bob_fase", "tafel", "deadline", "status", "besluit"]
BOB_FASEN = ("beeldvorming", "oordeelsvorming", "besluitvorming")  # in the order an issue moves
STATUSES = ("open", "loopt", "afgerond", "vervallen")
CLOSED = ("afgerond", "vervallen")  # no longer waited for: never past a deadline
# one row per afspraak, as read from the file and kept in a run (``regel``: its line in the file)
AFSPRAKEN_TABLE = ["id", "regel", "afspraak", "eigenaar", *AFSPRAAK_COLUMNS[1:]]
