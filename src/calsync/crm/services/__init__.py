"""The CRM's rules as plain functions over a SQLAlchemy `Session`, one module per record family.

Services validate everything before they write, raise `CrmError` subclasses on bad input, and never
commit: the caller owns the transaction (commit on success, roll back on error).
"""
