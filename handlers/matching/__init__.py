"""Who is paired with whom: scoring a pair (score), the best pairing of the whole pool
(solver), a lead's review and the proposals people answer (proposals), the waitlist,
proposals nobody answered (lapses) and pairing by hand (by_hand)."""
