"""The 12316 hotline: voice menus, calls, questions and expert answers."""
