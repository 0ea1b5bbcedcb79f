from tests.handlers.cycle_world import World
from tests.helpers import rows
from storage import Meeting

async def test_probe(world: World) -> None:
    lee, ana, pairing = await world.pair(mentor_zone="America/New_York")
    print(await world.read_waiting(lee))
    print(await world.read_waiting(ana))
    print("----")
    print(await world.chat(lee).send("schedule"))
    print("----")
    print(await world.read_waiting(ana))
    [m] = await rows(world.database, Meeting)
    print(await world.chat(ana).send(f"pick-meeting {m.id} 2"))
    print("----")
    print(await world.read_waiting(lee))
    print(await world.chat(lee).send("pick-meeting 1 2"))
    print(await world.chat(ana).send("pick-meeting 1 2"))
    print(await world.chat(lee).send("schedule"))
    print(await world.chat(lee).send("move-meeting"))
    print(await world.chat(lee).send("move-meeting to tuesday 15:00"))
    print(await world.chat(lee).send("move-meeting to tuesday 14:00"))
    print(await world.chat(lee).send("cancel-meeting"))
    print(await world.read_waiting(ana))
    print(await world.chat(ana).send("status"))
