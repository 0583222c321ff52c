"""The dashboard's widgets, one per module: each draws what the app hands it and posts a message
when the user does something to it; none holds training logic or reads the training thread."""
