from journal.web.export.views import bp

__all__ = ["bp"]
