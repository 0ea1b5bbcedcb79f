"""Every program the file describes, and what they share: :class:`Programs`.

A journey asks it for the program of the row at hand; a program no longer in the file is
archived on the shared settings (handlers.core.program holds what one program is).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from handlers.core.program import (
    ROLES_OF_TYPE,
    Circles,
    Competency,
    Eligibility,
    PrivacySettings,
    Program,
    ProgramType,
)


class Programs:
    """Every program the file describes, and what they share.

    A journey asks for the program of the row at hand (``programs.of(pairing.program)``);
    a program id the file no longer has gives an archived program on the shared
    settings, so the history of a removed program stays readable. The file no longer says
    a removed program's type: one whose stored rows are circles is archived as a circles
    program once :meth:`remember_circles` has been told so (handlers.core.archived does it
    on the first turn or due pass), so its circles keep running.
    """

    def __init__(
        self,
        programs: Sequence[Program],
        *,
        leads: Sequence[str] = (),
        archive_template: Program | None = None,
    ) -> None:
        if not programs:
            raise ValueError("a program file describes at least one program")
        self.all: tuple[Program, ...] = tuple(programs)
        self._by_id = {program.id: program for program in self.all}
        #: Global leads: they lead every program.
        self.leads: tuple[str, ...] = tuple(lead.strip().lower() for lead in leads)
        self._template = archive_template or self.all[0]
        #: Removed programs whose stored rows are circles; None until looked up.
        self._stored_circles: frozenset[str] | None = None

    @classmethod
    def one(cls, program: Program) -> Programs:
        """A file with a single program (tests, and files with a ``program:`` section)."""
        return cls([program], leads=program.global_leads)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Programs):
            return NotImplemented
        return (self.all, self.leads) == (other.all, other.leads)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Programs({', '.join(p.id for p in self.all)})"

    def __iter__(self) -> Iterator[Program]:
        return iter(self.all)

    def __len__(self) -> int:
        return len(self.all)

    def get(self, program_id: str) -> Program | None:
        """The program with this id in the file, or None."""
        return self._by_id.get(program_id)

    def of(self, program_id: str) -> Program:
        """The program a stored row names; archived on the shared settings if removed."""
        found = self._by_id.get(program_id)
        if found is not None:
            return found
        circles = program_id in (self._stored_circles or ())
        return self._template.model_copy(
            update={
                "id": program_id,
                "name": program_id,
                "description": "",
                "leads": list(self.leads),
                "global_leads": list(self.leads),
                "eligibility": Eligibility(invite_only=True),
                "cohort": None,
                "archived": True,
                **(
                    {
                        "type": ProgramType.CIRCLES,
                        "roles": list(ROLES_OF_TYPE[ProgramType.CIRCLES]),
                        "circles": Circles(),
                    }
                    if circles
                    else {}
                ),
            }
        )

    @property
    def knows_stored_circles(self) -> bool:
        """Whether :meth:`remember_circles` has said which removed programs had circles."""
        return self._stored_circles is not None

    def remember_circles(self, program_ids: Iterable[str]) -> None:
        """Note the programs stored circles belong to: those no longer in the file are
        archived as circles programs from now on.

        A memo of stored facts, not a setting: a program the file no longer has gets no
        new circles, so what the rows said stays true while this file is in force.
        """
        self._stored_circles = frozenset(program_ids) - self.ids

    def with_ids(self, ids: Iterable[str]) -> list[Program]:
        """The programs stored rows name, in file order (archived ones after)."""
        wanted = set(ids)
        found = [program for program in self.all if program.id in wanted]
        return found + [self.of(i) for i in sorted(wanted - set(self._by_id))]

    @property
    def several(self) -> bool:
        """True when the file describes more than one program."""
        return len(self.all) > 1

    @property
    def first(self) -> Program:
        """The first program in the file (the only one in a one-program file)."""
        return self.all[0]

    @property
    def ids(self) -> frozenset[str]:
        """The ids of the programs in the file."""
        return frozenset(self._by_id)

    @property
    def competencies(self) -> list[Competency]:
        """The competency taxonomy every program shares."""
        return self.all[0].competencies

    @property
    def default_timezone(self) -> str:
        """The timezone of anyone whose own is not known."""
        return self.all[0].default_timezone

    @property
    def min_group_size(self) -> int:
        """The smallest group a report shows figures for."""
        return self.all[0].min_group_size

    @property
    def privacy(self) -> PrivacySettings:
        """How long personal data is kept (shared by every program)."""
        return self.all[0].privacy

    def is_global_lead(self, email: str) -> bool:
        """True for a lead of every program."""
        return email.strip().lower() in self.leads

    def led_by(self, email: str) -> list[Program]:
        """The programs this person leads (every one, for a global lead)."""
        return [program for program in self.all if program.is_lead(email)]

    def is_lead(self, email: str) -> bool:
        """True when this person leads at least one program."""
        return self.is_global_lead(email) or bool(self.led_by(email))

    def competency(self, key: str) -> Competency | None:
        """The shared taxonomy's competency with this id or name."""
        return self.all[0].competency(key)
