"""Dashboard templates (Jinja2) and static assets, served by ``watchkeeper serve``."""
