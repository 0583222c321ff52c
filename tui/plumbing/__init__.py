"""The dashboard's plumbing, no widgets: the training thread's loop and its snapshots, the row heights,
the palette's entries, the experiments' actions, the name batches and saving."""
