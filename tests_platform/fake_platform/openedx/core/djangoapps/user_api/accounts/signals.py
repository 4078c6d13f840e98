"""
``openedx.core.djangoapps.user_api.accounts.signals``: the user-retirement signals.

Plain Django ``Signal()``s, sent by the LMS retirement views (``views.py`` here):

* ``USER_RETIRE_LMS_MISC`` (kwarg ``user``): the pipeline's ``retire_misc`` step. Plugins that keep
  learner data delete or scrub their rows for ``user.id`` here.
* ``USER_RETIRE_LMS_CRITICAL`` (kwargs ``user``, ``retired_username``, ``retired_email``): the
  ``retire`` step, sent inside its transaction just before the username and email are scrambled.
"""
from django.dispatch import Signal

USER_RETIRE_LMS_CRITICAL = Signal()
USER_RETIRE_LMS_MISC = Signal()
