"""Trust signals and the "Just Picked for You" feed.

What the console learns about sellers and listings (authentication verdicts, counterfeit
and duplicate flags, dispute outcomes, shipping behaviour, ratings) becomes a seller trust
score and an item risk (`trust.signals`), and the recommender (`trust.recommender`)
re-ranks each member's candidates with them.  It sits above vision and below the console:
it reads every domain package and nothing but the console reads it.
"""
