"""Realistic demo data: Harborview Wealth Partners, an advisory firm, and a week of its meetings.

`seed_demo_data` fills an empty CRM through the CRM services (so every rule applies, as for real
data): an administrator and three advisors in three time zones, 30 Individuals and 15 Contacts with
alternate emails, custom Email fields and Contact Point Emails, and the current week of meetings,
including an all-day event, an internal meeting with several advisors (which gives each of them a
read-only copy) and a CRM-native recurring review. It is idempotent: once the firm's administrator
exists, it adds nothing; and it never mixes the demo firm into a database that has real users.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import Contact, FieldType, Individual, RecordType, Role, User
from calsync.crm.services.contact_point_emails import add_contact_point_email
from calsync.crm.services.custom_fields import define_custom_field, set_custom_values
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.events import create_event
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
)
from calsync.crm.services.users import create_user, find_user_by_email
from calsync.workflows.demo import add_demo_workflows

FIRM_DOMAIN = "harborview.example"
ADMIN_EMAIL = f"dana.whitfield@{FIRM_DOMAIN}"


@dataclass(frozen=True)
class StaffMember:
    name: str
    email: str
    role: Role
    time_zone: str


STAFF = (
    StaffMember("Dana Whitfield", ADMIN_EMAIL, Role.ADMIN, "America/New_York"),
    StaffMember("Marcus Reyes", f"marcus.reyes@{FIRM_DOMAIN}", Role.STAFF, "America/New_York"),
    StaffMember("Priya Natarajan", f"priya.natarajan@{FIRM_DOMAIN}", Role.STAFF, "America/Chicago"),
    StaffMember("Elliot Brandt", f"elliot.brandt@{FIRM_DOMAIN}", Role.STAFF, "Europe/London"),
)

# (first name, last name, spouse's first name or None)
CLIENTS = (
    ("Olivia", "Hartman", "Daniel"),
    ("James", "Okafor", "Adaeze"),
    ("Sophia", "Lindqvist", None),
    ("William", "Castellano", "Maria"),
    ("Emma", "Brightwater", None),
    ("Benjamin", "Tanaka", "Yuki"),
    ("Ava", "Dubois", "Lucas"),
    ("Henry", "Abernathy", None),
    ("Mia", "Rosenthal", "Noah"),
    ("Alexander", "Novak", "Petra"),
    ("Charlotte", "Whitaker", None),
    ("Samuel", "Iverson", "Grace"),
    ("Amelia", "Fitzgerald", None),
    ("Daniel", "Mbeki", "Thandi"),
    ("Harper", "Quinlan", None),
    ("Michael", "Sorensen", "Ingrid"),
    ("Evelyn", "Marchetti", None),
    ("David", "Kowalczyk", "Anna"),
    ("Abigail", "Ferreira", None),
    ("Joseph", "Nakamura", "Emi"),
    ("Ella", "Vasquez", None),
    ("Thomas", "Bergström", "Karin"),
    ("Scarlett", "Oduya", None),
    ("Christopher", "Lambert", "Chloe"),
    ("Grace", "Halvorsen", None),
    ("Andrew", "Delacroix", "Margot"),
    ("Lily", "Chaudhry", None),
    ("Matthew", "Eriksen", "Sara"),
    ("Zoe", "Montgomery", None),
    ("Nathan", "Adeyemi", "Funke"),
)

# (first name, last name, organisation, its domain, role)
PARTNERS = (
    ("Rachel", "Greenberg", "Lakeshore CPA Group", "lakeshorecpa.example", "Tax partner"),
    ("Victor", "Almeida", "Lakeshore CPA Group", "lakeshorecpa.example", "Senior accountant"),
    ("Hannah", "Schuster", "Schuster & Pike LLP", "schusterpike.example", "Estate attorney"),
    ("Owen", "Pike", "Schuster & Pike LLP", "schusterpike.example", "Trusts attorney"),
    ("Leila", "Haddad", "Beacon Mutual Insurance", "beaconmutual.example", "Insurance agent"),
    ("Gregory", "Thorne", "Beacon Mutual Insurance", "beaconmutual.example", "Underwriter"),
    ("Naomi", "Fischer", "Northgate Trust Company", "northgatetrust.example", "Trust officer"),
    ("Isaac", "Romero", "Northgate Trust Company", "northgatetrust.example", "Custody manager"),
    ("Claire", "Donovan", "Meridian Mortgage", "meridianmortgage.example", "Loan officer"),
    ("Patrick", "Osei", "Meridian Mortgage", "meridianmortgage.example", "Underwriting lead"),
    ("Julia", "Hoffmann", "Keystone Benefits", "keystonebenefits.example", "401(k) consultant"),
    ("Marco", "Bianchi", "Keystone Benefits", "keystonebenefits.example", "Plan administrator"),
    ("Ruth", "Kaplan", "Evergreen Philanthropy", "evergreengiving.example", "Donor advisor"),
    ("Simon", "Achebe", "Harbor Realty", "harborrealty.example", "Commercial broker"),
    ("Fiona", "Gallagher", "Harbor Realty", "harborrealty.example", "Property manager"),
)

RISK_PROFILES = ("Conservative", "Moderate", "Balanced", "Growth", "Aggressive")


class NotADemoDatabaseError(Exception):
    """The database already holds someone's real records; the demo firm is not mixed into them."""


@dataclass(frozen=True)
class DemoSummary:
    """What a seeding run did; `created` is False when the demo data was already there."""

    created: bool
    admin: User


def _slug(name: str) -> str:
    """`Bergström` → `bergstrom`: the ASCII letters of a name, for its email addresses."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_name.lower() if ch.isalnum())


def _monday_of_this_week(today: date) -> date:
    return today - timedelta(days=today.weekday())


def _at(day: date, hour: int, minute: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone))


def _define_custom_fields(session: Session) -> None:
    define_custom_field(
        session, RecordType.INDIVIDUAL, "spouse_email", "Spouse email", FieldType.EMAIL
    )
    define_custom_field(
        session, RecordType.INDIVIDUAL, "assistant_email", "Assistant email", FieldType.EMAIL
    )
    define_custom_field(
        session, RecordType.INDIVIDUAL, "risk_profile", "Risk profile", FieldType.TEXT
    )
    define_custom_field(
        session, RecordType.INDIVIDUAL, "next_review", "Next review", FieldType.DATE
    )
    define_custom_field(
        session, RecordType.CONTACT, "assistant_email", "Assistant email", FieldType.EMAIL
    )
    define_custom_field(session, RecordType.CONTACT, "referrals", "Referrals", FieldType.NUMBER)


def _add_clients(session: Session, advisors: list[User], monday: date) -> list[Individual]:
    clients: list[Individual] = []
    for index, (first, last, spouse) in enumerate(CLIENTS):
        handle = f"{_slug(first)}.{_slug(last)}"
        individual = create_individual(
            session,
            IndividualInput(
                first_name=first,
                last_name=last,
                email=f"{handle}@mail.example",
                alternate_email=f"{_slug(first)[0]}{_slug(last)}@inbox.example",
                phone=f"+1 617 555 {100 + index:04d}",
                advisor_id=advisors[index % len(advisors)].id,
            ),
        )
        values: dict[str, object] = {
            "risk_profile": RISK_PROFILES[index % len(RISK_PROFILES)],
            "next_review": (monday + timedelta(days=30 + 7 * index)).isoformat(),
        }
        if spouse is not None:
            values["spouse_email"] = f"{_slug(spouse)}.{_slug(last)}@mail.example"
        if index % 5 == 0:
            values["assistant_email"] = f"office.{_slug(last)}@familyoffice.example"
        set_custom_values(session, RecordType.INDIVIDUAL, individual.id, values)
        if index % 3 == 0:
            add_contact_point_email(
                session,
                RecordType.INDIVIDUAL,
                individual.id,
                f"{handle}@{_slug(last)}holdings.example",
                "work",
            )
        clients.append(individual)
    return clients


def _add_partners(session: Session) -> list[Contact]:
    partners: list[Contact] = []
    for index, (first, last, organisation, domain, title) in enumerate(PARTNERS):
        handle = f"{_slug(first)}.{_slug(last)}"
        contact = create_contact(
            session,
            ContactInput(
                first_name=first,
                last_name=last,
                email=f"{handle}@{domain}",
                alternate_email=f"{_slug(first)}.{_slug(last)}@mail.example",
                phone=f"+1 312 555 {200 + index:04d}",
                organization_name=organisation,
            ),
        )
        values: dict[str, object] = {"referrals": index % 4}
        if index % 2 == 0:
            values["assistant_email"] = f"assistant.{_slug(last)}@{domain}"
        set_custom_values(session, RecordType.CONTACT, contact.id, values)
        add_contact_point_email(
            session,
            RecordType.CONTACT,
            contact.id,
            f"{_slug(first)[0]}{_slug(last)}@{domain}",
            title,
        )
        partners.append(contact)
    return partners


def _meeting(
    session: Session,
    owner: User,
    subject: str,
    start: datetime,
    minutes: int,
    attendees: tuple[AttendeeInput, ...],
    *,
    location: str,
    description: str = "",
    is_teams_meeting: bool = False,
    recurrence_rule: str | None = None,
) -> None:
    create_event(
        session,
        EventInput(
            owner_id=owner.id,
            subject=subject,
            start=start,
            end=start + timedelta(minutes=minutes),
            time_zone=owner.time_zone,
            attendees=attendees,
            location=location,
            description=description,
            is_teams_meeting=is_teams_meeting,
            recurrence_rule=recurrence_rule,
        ),
    )


def _schedule_week(
    session: Session,
    admin: User,
    advisors: list[User],
    clients: list[Individual],
    partners: list[Contact],
    monday: date,
) -> None:
    """Two client meetings a day per advisor, plus the firm's shared and all-day events."""
    subjects = (
        "Annual review — {name}",
        "Portfolio rebalancing call — {name}",
        "Retirement income plan — {name}",
        "Onboarding meeting — {name}",
        "Tax-loss harvesting check-in — {name}",
    )
    for advisor_index, advisor in enumerate(advisors):
        own_clients = [c for c in clients if c.advisor_id == advisor.id]
        for day_index in range(5):
            day = monday + timedelta(days=day_index)
            for slot, (hour, minute) in enumerate(((9, 30), (14, 0))):
                client = own_clients[(day_index * 2 + slot) % len(own_clients)]
                partner = partners[(advisor_index * 5 + day_index) % len(partners)]
                with_partner = slot == 1 and day_index % 2 == 0
                attendees = (AttendeeInput(individual_id=client.id),) + (
                    (AttendeeInput(contact_id=partner.id),) if with_partner else ()
                )
                _meeting(
                    session,
                    advisor,
                    subjects[(day_index + slot) % len(subjects)].format(name=client.display_name),
                    _at(day, hour, minute, advisor.time_zone),
                    60 if slot == 0 else 45,
                    attendees,
                    location="Teams" if slot == 1 else "Harborview office",
                    is_teams_meeting=slot == 1,
                    description=(
                        f"With {partner.display_name} ({partner.organization_name})."
                        if with_partner
                        else ""
                    ),
                )
    # The firm's internal meeting: each advisor gets a read-only copy on their own calendar.
    _meeting(
        session,
        admin,
        "Investment committee",
        _at(monday, 8, 0, admin.time_zone),
        60,
        tuple(AttendeeInput(user_id=advisor.id) for advisor in advisors),
        location="Boardroom",
        is_teams_meeting=True,
        description="Model portfolio changes, compliance notes, new-client pipeline.",
    )
    # A CRM-native recurring review: stays in the CRM, not synced to Microsoft 365 (SPEC §5).
    _meeting(
        session,
        advisors[0],
        "Pipeline review",
        _at(monday, 16, 30, advisors[0].time_zone),
        30,
        (AttendeeInput(user_id=admin.id),),
        location="Marcus's office",
        recurrence_rule="FREQ=WEEKLY;BYDAY=MO;COUNT=12",
        description="Weekly look at prospects and open proposals.",
    )
    # An all-day event: a conference day out of the office.
    friday = monday + timedelta(days=4)
    create_event(
        session,
        EventInput(
            owner_id=advisors[2].id,
            subject="Out of office — CFP Board conference",
            start=friday,
            end=friday + timedelta(days=1),
            time_zone=advisors[2].time_zone,
            is_all_day=True,
            show_as="oof",
            location="Edinburgh",
        ),
    )


def seed_demo_data(session: Session, today: date) -> DemoSummary:
    """Fill an empty CRM with the demo firm, its people and the week of `today`; idempotent.

    Nothing is committed here: the caller commits, so a failure leaves nothing half-seeded.
    """
    existing_admin = find_user_by_email(session, ADMIN_EMAIL)
    if existing_admin is not None:
        return DemoSummary(created=False, admin=existing_admin)
    if session.scalar(select(User.id).limit(1)) is not None:
        raise NotADemoDatabaseError(
            "this database already has users of its own, so the demo firm is not added to it; "
            "run the demo on an empty database (unset CALSYNC_DATABASE_URL to use data/)"
        )
    users = [
        create_user(
            session,
            name=member.name,
            email=member.email,
            role=member.role,
            time_zone=member.time_zone,
        )
        for member in STAFF
    ]
    admin, advisors = users[0], users[1:]
    monday = _monday_of_this_week(today)
    _define_custom_fields(session)
    clients = _add_clients(session, advisors, monday)
    partners = _add_partners(session)
    _schedule_week(session, admin, advisors, clients, partners, monday)
    add_demo_workflows(session)
    return DemoSummary(created=True, admin=admin)
