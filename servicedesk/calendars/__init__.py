"""Working days per organisation: national calendars, own closed days, and working time."""
