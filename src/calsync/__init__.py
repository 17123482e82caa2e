"""CalSync: two-way sync between a CRM calendar and Microsoft 365 calendars."""

__version__ = "0.1.0"
