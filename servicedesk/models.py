"""Every table of the application, imported in one place for Alembic and the tests."""

from servicedesk.audit.models import AuditEntry
from servicedesk.auth.models import User, UserQueue
from servicedesk.benchmarking.models import (
    BenchmarkMember,
    BenchmarkOutbox,
    BenchmarkParticipant,
    BenchmarkPublication,
)
from servicedesk.calendars.models import Calendar, CalendarDay
from servicedesk.callimport.models import CallImport
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.dashboard.models import Target
from servicedesk.gdpr.models import RetentionPolicy
from servicedesk.ingest.models import Delivery, Event, IngestToken, RefusedDay
from servicedesk.kolada.models import KoladaKpi, KoladaValue
from servicedesk.metrics.models import MonthAggregate
from servicedesk.notify.models import NotificationDelivery, NotificationEndpoint
from servicedesk.orgs.models import ClosedDay, Organisation, Queue
from servicedesk.ratelimits import RateLimitCounter
from servicedesk.reports.models import Report
from servicedesk.surveys.models import SurveyInvitation, SurveyOptOut, SurveySettings
from servicedesk.webhooks.models import EmailThread, Integration, WebhookNonce

__all__ = [
    "AuditEntry",
    "BenchmarkMember",
    "BenchmarkOutbox",
    "BenchmarkParticipant",
    "BenchmarkPublication",
    "RetentionPolicy",
    "Calendar",
    "CallImport",
    "CalendarDay",
    "ClosedDay",
    "Contact",
    "Delivery",
    "EmailThread",
    "Event",
    "IngestToken",
    "NotificationDelivery",
    "NotificationEndpoint",
    "Integration",
    "KoladaKpi",
    "KoladaValue",
    "MonthAggregate",
    "Organisation",
    "Queue",
    "RateLimitCounter",
    "RefusedDay",
    "Report",
    "SurveyInvitation",
    "SurveyOptOut",
    "SurveyResponse",
    "SurveySettings",
    "WebhookNonce",
    "Target",
    "User",
    "UserQueue",
]
