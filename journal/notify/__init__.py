"""Reaching people outside the app: the e-mail the worker sends, and when."""
