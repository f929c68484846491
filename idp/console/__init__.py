"""The school console (`/ecole`): directors and deputies follow and help their school's families.

Staff are not parents: their own table (idp.models.staff), sessions and cookie (`sessions.py`),
a password and a TOTP second factor (`totp.py`). Every view that reaches a family goes through
`scope.py`, the one place that decides what a staff member may see.
"""
