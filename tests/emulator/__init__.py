"""Tests of the Microsoft 365 calendar emulator (calsync.emulator)."""
