"""What a program removed from the file was, as its stored rows say.

The program file is the only place a program's type is written, so a removed program
would read as one-to-one (:meth:`handlers.core.programs.Programs.of`). Circles are stored
only for circles programs: a removed program with circle rows was one, and its circles
keep running (``status``, ``circle``, ``log``, their due items and their end) as they did.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.programs import Programs
from storage.tables import CIRCLE


async def recall_archived_circles(session: AsyncSession, programs: Programs) -> Programs:
    """Tell ``programs`` which removed programs had circles (once per program file).

    Returns:
        ``programs``, which now archives those programs as circles programs.
    """
    if not programs.knows_stored_circles:
        conn = await session.connection()
        found = await conn.execute(
            sa.select(CIRCLE.c.program).where(CIRCLE.c.program.not_in(programs.ids)).distinct()
        )
        programs.remember_circles(str(program_id) for program_id in found.scalars())
    return programs
