"""Nightly sync and the results flow: jobs in our own tables, huey only carries "look at job N" messages."""
