"""The audit log: who exported, signed in or changed what, and when (``record`` for all)."""

from servicedesk.audit.operations import record

__all__ = ["record"]
