"""Reference data of the simulation: the year profile of referrals and slots."""
