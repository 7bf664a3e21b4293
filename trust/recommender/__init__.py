""""Just Picked for You": interactions -> candidates -> a learned ranker -> trust re-ranking.

Batch (`batch`, `runs`, `tasks`, `cli`): train the ranker, fit ALS and the members'
profiles, store each member's candidates.  Online (`feed`, `views`, `staff_api`): read
them, add fresh listings, load trust, re-rank (`rerank`, pure), record impressions.
"""
