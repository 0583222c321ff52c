"""The dashboard's plumbing, no widgets: the training thread's loop and its snapshots, the row heights, the
keys and the palette's entries, the experiments, a race, the names on screen, a run's end, the dead-unit
watch, saving, exporting, threads beside the screen, and how the process ends (the lifeline)."""
