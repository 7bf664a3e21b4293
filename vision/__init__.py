"""Image models: duplicate listings, counterfeit risk, and the analysts' tuning loop."""
