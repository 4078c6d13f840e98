"""
Fake edx-platform package (tests only): ``xmodule.modulestore``.

``ModuleStoreEnum`` mirrors the names of edx-platform's ``xmodule.modulestore.ModuleStoreEnum``
that the fake uses: the branch settings a process reads with (the LMS ``published-only``,
Studio ``draft-preferred``, from ``settings.MODULESTORE_BRANCH``) and split's branch names,
which appear in branch-qualified keys (``…+branch@draft-branch+…``).
"""


class ModuleStoreEnum:
    """``xmodule.modulestore.ModuleStoreEnum`` (the parts the fake needs)."""

    class Branch:
        """Branch settings: which branch a read prefers."""

        draft_preferred = "draft-preferred"
        published_only = "published-only"

    class BranchName:
        """Split's branch names (the ``branch@`` part of a branch-qualified key)."""

        draft = "draft-branch"
        published = "published-branch"

    class RevisionOption:
        """``revision`` values of ``delete_item``."""

        published_only = "rev-opt-published-only"
        draft_only = "rev-opt-draft-only"
        all = "rev-opt-all"
