"""
The LMS retirement steps of ``openedx.core.djangoapps.user_api.accounts.views``, without HTTP.

The retirement pipeline (a driver calling LMS endpoints in order) first unenrolls the learner from
every course (its enrollment step), later calls ``LMSAccountRetirementView`` (``retire_misc``: sends
``USER_RETIRE_LMS_MISC``), and last ``AccountRetirementView`` (``retire``: inside one transaction
sends ``USER_RETIRE_LMS_CRITICAL``, then scrambles the username and email and deactivates the user;
the ``User`` row is kept). The fake keeps those effects and their order.
"""
from __future__ import annotations

import hashlib

from django.db import transaction

from .signals import USER_RETIRE_LMS_CRITICAL, USER_RETIRE_LMS_MISC


def get_retired_username_by_username(username: str) -> str:
    """A scrambled username (edx-platform hashes the name with a salt: ``retired__user_<hash>``)."""
    return "retired__user_" + hashlib.sha1(username.encode()).hexdigest()


def get_retired_email_by_email(email: str) -> str:
    return "retired__user_" + hashlib.sha1(email.encode()).hexdigest() + "@retired.invalid"


def retire_misc(user) -> None:
    """``LMSAccountRetirementView.post``: ``USER_RETIRE_LMS_MISC`` for the user."""
    USER_RETIRE_LMS_MISC.send(sender=None, user=user)


def retire(user) -> None:
    """``AccountRetirementView.post``: ``USER_RETIRE_LMS_CRITICAL``, then the username and email scrambled."""
    retired_username = get_retired_username_by_username(user.username)
    retired_email = get_retired_email_by_email(user.email)
    with transaction.atomic():
        USER_RETIRE_LMS_CRITICAL.send(
            sender=None, user=user, retired_username=retired_username, retired_email=retired_email
        )
        user.first_name = ""
        user.last_name = ""
        user.is_active = False
        user.username = retired_username
        user.email = retired_email
        user.save()
