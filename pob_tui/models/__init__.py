"""SQLModel tables, one module per area. Importing this package registers them all."""

from sqlmodel import SQLModel

from pob_tui.models.audit import (
    AdminEvent,
    Notification,
    TicketCounter,
    TicketEvent,
    TicketPresence,
)
from pob_tui.models.base import NAMING_CONVENTION, UTCDateTime, pk, utcnow
from pob_tui.models.catalog import (
    Funding,
    InputVersion,
    Service,
    ServiceCost,
    Subscription,
    UsageRecord,
)
from pob_tui.models.change import (
    CabAgendaItem,
    CabDecision,
    CabMeeting,
    CabMember,
    ChangeCi,
    ChangeRequest,
    ChangeTemplate,
    FreezeWindow,
)
from pob_tui.models.cmdb import CiRelation, ConfigItem, ServiceCi
from pob_tui.models.desk import CallRing, CallTemplate
from pob_tui.models.directory import DirectoryRun, PersonUnitHistory
from pob_tui.models.incident import FollowUp, Incident, OutageService
from pob_tui.models.mail import MailAttachment, MailMessage, MailState
from pob_tui.models.org import ROLES, Agent, AgentRole, Location, OrgUnit, Person, Team
from pob_tui.models.problem import Problem
from pob_tui.models.serve import AgentKey, ServeSession
from pob_tui.models.sla import (
    Agreement,
    AgreementService,
    Calendar,
    CalendarDay,
    OlaTarget,
    SlaClock,
    SlaTarget,
)

metadata = SQLModel.metadata

__all__ = [
    "NAMING_CONVENTION",
    "ROLES",
    "AdminEvent",
    "Agent",
    "AgentKey",
    "AgentRole",
    "Agreement",
    "AgreementService",
    "CabAgendaItem",
    "CabDecision",
    "CabMeeting",
    "CabMember",
    "Calendar",
    "CalendarDay",
    "CallRing",
    "CallTemplate",
    "ChangeCi",
    "ChangeRequest",
    "ChangeTemplate",
    "CiRelation",
    "ConfigItem",
    "DirectoryRun",
    "FollowUp",
    "FreezeWindow",
    "Funding",
    "Incident",
    "InputVersion",
    "Location",
    "MailAttachment",
    "MailMessage",
    "MailState",
    "Notification",
    "OlaTarget",
    "OrgUnit",
    "OutageService",
    "Person",
    "PersonUnitHistory",
    "Problem",
    "ServeSession",
    "Service",
    "ServiceCi",
    "ServiceCost",
    "SlaClock",
    "SlaTarget",
    "Subscription",
    "Team",
    "TicketCounter",
    "TicketEvent",
    "TicketPresence",
    "UTCDateTime",
    "UsageRecord",
    "metadata",
    "pk",
    "utcnow",
]
