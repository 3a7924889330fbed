"""Koppelpunt: the Django project that puts both sides of a UWLR koppeling on top of the `uwlr` library."""
