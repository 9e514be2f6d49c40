"""Demo data: a municipality with a year of realistic traffic."""
