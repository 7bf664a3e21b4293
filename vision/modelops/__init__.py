"""The fraud analysts' model loop: registry, training runs, evaluation, thresholds, shadow
scoring, promotion and rollback, for every kind of model registered in `kinds`."""
