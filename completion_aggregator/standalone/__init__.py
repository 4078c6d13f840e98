"""
A small host that plays the LMS's part: course structures, enrollments, roles and cohorts.

Opt-in (add ``completion_aggregator.standalone`` to INSTALLED_APPS); used by the development
project, the demo, the tests and any host that is not edx-platform.
"""
