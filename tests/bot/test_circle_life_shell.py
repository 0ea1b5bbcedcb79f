"""The whole life of a mentor circle through ``mentorbot shell`` and ``mentorbot run-due``
(in-process), as its people and its lead would live it, on both databases.

Four members and a facilitator join Leadership Circles through the intake; the lead runs
``match`` and approves; everyone accepts (a proposal's numbered button, ``accept C1``,
plain ``accept``); each member reads the kickoff in their shell; the facilitator sets goals
and logs sessions with who came; those who came answer the pulse; ``run-due`` across the
weeks brings the facilitator's nudge and, after two missed sessions, a member's; that member
leaves; the end review closes the circle; ``report circles`` shows its figures. The clock
is ``MENTORBOT_NOW``, moved day by day.
"""

from __future__ import annotations

from tests.bot.cli_helpers import Cli
from tests.conftest import CIRCLES_PROGRAMS

LEAD = "priya.shah@example.com"
MEMBERS = ("ana@x.com", "ben@x.com", "cleo@x.com", "dev@x.com")
FRAN = "fran@x.com"


def join_as_member(cli: Cli, email: str) -> str:
    """The member's intake: goals, Coaching and Influence, talking, Group, 4 hours, save."""
    return cli.shell(
        email,
        "join leader-circles member",
        "Lead my team through a reorganisation",
        "4, 6",
        "1",
        "2",
        "4",
        "yes",
    )


def run_due(cli: Cli, instant: str) -> str:
    code, out, err = cli.run("run-due", "--now", instant)
    assert code == 0, err
    return out


def test_the_whole_life_of_a_circle_through_the_shell(cli: Cli) -> None:
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(CIRCLES_PROGRAMS))

    # Monday 1 February 2027: they join. join lists the programs and says what a circle is.
    cli.at("2027-02-01T10:00:00Z")
    listed = cli.shell(MEMBERS[0], "join")
    assert (
        "A circle is an experienced facilitator and 3 to 5 members who want to grow the same "
        "skills; it meets every 14 days for 90 days. You'd join as a circle member or a circle "
        "facilitator. Type join leader-circles." in listed
    )
    asked = cli.shell(MEMBERS[0], "join leader-circles", "cancel")
    assert "1. Member: I'd like to join a circle" in asked
    assert "2. Facilitator: I'd like to lead a circle" in asked
    first = join_as_member(cli, MEMBERS[0])
    assert "Let's get you enrolled as a circle member in Leadership Circles." in first
    assert "What do you want to get out of a circle in the next 90 days?" in first
    assert (
        "You're enrolled as a circle member in Leadership Circles. You're now waiting for a "
        "circle" in first
    )
    for email in MEMBERS[1:]:
        assert "You're enrolled as a circle member" in join_as_member(cli, email)
    facilitator = cli.shell(
        FRAN, "join leader-circles facilitator", "4, 6", "1", "2", "4", "I lead teams.", "yes"
    )
    assert "How many circles can you facilitate at the same time?" in facilitator
    assert (
        "Thank you! You're enrolled as a circle facilitator in Leadership Circles, for up to "
        "1 circle at a time." in facilitator
    )
    waiting = cli.shell(MEMBERS[0], "status")
    assert "You're enrolled as a circle member, waiting for a circle" in waiting
    assert "You're number 1 of 4 on the waitlist for a circle in Leadership Circles." in waiting

    # Tuesday: the lead reviews the round and approves it.
    cli.at("2027-02-02T10:00:00Z")
    round_ = cli.shell(LEAD, "match leader-circles", "1")
    assert "Circles for Leadership Circles: 1 circle for 4 waiting members" in round_
    assert "1. Fran facilitates Ana, Ben, Cleo, Dev" in round_
    assert "Sent 1 circle proposal" in round_

    # Everyone accepts, the facilitator last: Ana with the proposal's numbered button.
    cli.at("2027-02-02T11:00:00Z")
    ana = cli.shell(MEMBERS[0], "1")
    assert "Would you join a circle on Coaching and Influence and stakeholder management" in ana
    assert "facilitated by Fran, with 3 other members?" in ana
    assert "Thank you! Circle C1 starts once its facilitator and at least 3 members accept" in ana
    status = cli.shell(MEMBERS[0], "status")
    assert "You accepted circle C1" in status
    assert "Matching runs when" not in status  # the round ran; the proposal waits
    cli.shell(MEMBERS[1], "accept C1")
    cli.shell(MEMBERS[2], "accept")
    cli.shell(MEMBERS[3], "accept c1")
    fran = cli.shell(FRAN, "accept C1")
    assert "• Ana: wants Coaching and Influence and stakeholder management" in fran
    assert "Wonderful: circle C1 is complete and starts now." in fran

    # Each member reads the kickoff in their own shell.
    cli.at("2027-02-02T12:00:00Z")
    for email in MEMBERS:
        kickoff = cli.shell(email)
        assert "Welcome to circle C1: Coaching and Influence and stakeholder management!" in (
            kickoff
        )
        assert "• Facilitator: Fran\n• Members: Ana, Ben, Cleo, Dev" in kickoff
        assert "Type circle any time to see it." in kickoff
    shown = cli.shell(MEMBERS[1], "circle", "help")
    assert "Circle C1 of Leadership Circles, cycle 1." in shown
    assert "• accept C7 / decline C7: answer the proposal of circle C7" in shown
    assert "• leave circle: leave your circle; it carries on without you" in shown

    # The facilitator sets two goals; the circle reads both.
    fran = cli.shell(
        FRAN, "goals add Give feedback that lands", "goals add Run a hard conversation"
    )
    assert "Added. The goals of circle C1:\n1. Give feedback that lands\n2. Run a hard" in fran
    goals = cli.shell(MEMBERS[3])
    assert "Fran added a goal for the circle: Give feedback that lands" in goals
    assert "Fran added a goal for the circle: Run a hard conversation" in goals

    # Tuesday 9 February: the first session; Ana, Ben and Cleo came, Dev didn't.
    cli.at("2027-02-09T15:00:00Z")
    logged = cli.shell(FRAN, "log", "today", "60", "1, 2, 3", "We practised feedback.")
    assert "A session of circle C1 (Leadership Circles)." in logged
    assert "Logged: 60 minutes on Tue 9 Feb, 3 of 4 members there." in logged
    # Those who came answer the pulse: by feedback, or by the message's button.
    pulse = cli.shell(MEMBERS[0], "feedback", "5", "1", "skip")
    assert "How did the session of circle C1 on Tue 9 Feb go?" in pulse
    assert "Thank you! Your feedback is saved." in pulse
    pulse = cli.shell(MEMBERS[1], "1", "4", "1", "skip")
    assert "Thanks for coming to your circle's session on Tue 9 Feb." in pulse
    assert "Thank you! Your feedback is saved." in pulse
    assert "Thank you!" in cli.shell(MEMBERS[2], "feedback", "4", "2", "skip")
    dev = cli.shell(MEMBERS[3], "feedback")
    assert "Fran logged the circle's session on Tue 9 Feb (60 minutes): 3 of 4 came." in dev
    assert "Nothing is waiting for your feedback right now." in dev

    # Run-due across the weeks: on 16 February the circle had met (no nudge); by 2 March
    # it hadn't, and Fran is nudged.
    assert "It's time for circle" not in run_due(cli, "2027-02-16T13:00:00Z")
    done = run_due(cli, "2027-03-02T13:00:00Z")
    assert "circles: 0 proposals lapsed, 0 reminded before they lapse, 1 item of" in done
    cli.at("2027-03-02T14:00:00Z")
    fran = cli.shell(FRAN, "log", "today", "45", "1, 2, 3", "skip")
    assert "It's time for circle C1 to meet: the circle meets every 14 days." in fran
    assert "The last one logged was on Tue 9 Feb." in fran
    assert "Logged: 45 minutes on Tue 2 Mar, 3 of 4 members there." in fran

    # Dev missed both sessions: on 16 March a gentle word of their own; Dev leaves.
    run_due(cli, "2027-03-16T13:00:00Z")
    cli.at("2027-03-16T14:00:00Z")
    dev = cli.shell(MEMBERS[3], "leave circle", "1")
    assert "We've missed you at your circle's last 2 sessions." in dev
    assert "Leaving takes you out of circle C1; the circle keeps meeting without you" in dev
    assert "You've left circle C1." in dev
    assert "missed you" not in cli.shell(MEMBERS[0])  # only Dev
    fran = cli.shell(FRAN, "circle")
    assert "Dev has left circle C1; the circle carries on with 3 members." in fran
    assert "Ana, Ben, Cleo" in fran and "Dev" not in fran.split("== Circle C1 ==")[-1]

    # Monday 3 May, 90 days on: one nudge for the sessions missed since, and the end
    # review; Fran closes the circle and everyone is told.
    run_due(cli, "2027-05-03T13:00:00Z")
    cli.at("2027-05-03T14:00:00Z")
    fran = cli.shell(FRAN, "circle close C1")
    assert fran.count("It's time for circle C1 to meet") == 1
    assert "Circle C1's cycle of 90 days (cycle 1) ends today." in fran
    assert "Closed circle C1; everyone in it has been told." in fran
    ended = cli.shell(MEMBERS[0], "status")
    assert "Fran closed circle C1. Thank you all for the time and care" in ended
    assert "a circle member whose circle has ended; type join to ask for a new circle" in ended
    assert "Fran closed circle C1 (completed)." in cli.shell(LEAD)
    again = cli.shell(MEMBERS[0], "join leader-circles member", "1")
    assert "Welcome back! Your last circle has ended." in again
    assert "1. Keep my answers and find me a new circle" in again
    assert "the next match round will look for a new circle for you" in again

    # The lead's report: the circle's figures, its pulse shown (3 people answered).
    code, report, err = cli.run("report", "circles", "--program", "leader-circles", "--as", LEAD)
    assert code == 0, err
    figures = {
        line[:52].strip(): line[52:].strip() for line in report.splitlines()[2:9] if line.strip()
    }
    assert figures["Circles active"] == "0"
    assert figures["Circles ended"] == "1"
    assert figures["Sessions held"] == "2"
    assert figures["Attendance"] == "75%"
    assert figures["Pulse: “How useful was the session?”"] == "4.33 (of 5)"
