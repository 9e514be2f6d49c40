"""People who sign in to the dashboards: users, roles, passwords and sign-in."""
