"""Domain types, presence model, OR-Tools planner, plan checker."""
