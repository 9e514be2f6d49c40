"""servicedesk: service desk metrics for Nordic municipalities.

``create_app`` (``servicedesk/app.py``) makes the Flask app; ``servicedesk`` on the command line
is ``servicedesk.cli:main``; ``docs/architecture.md`` describes how the packages are layered.
"""

from servicedesk.app import create_app

__all__ = ["create_app"]
