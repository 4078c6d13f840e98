"""
URLs of the development project: the app where the LMS mounts it, the admin, and a login page
for every user (learners too) at ``accounts/login/`` (``LOGIN_URL``).

The login and logout views are registered under the ``rest_framework`` namespace, the names
Django REST framework's browsable API looks for: an anonymous visitor of the API sees a
"Log in" link to this same page.
"""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from . import views

accounts = (
    [
        path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
        path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    ],
    "rest_framework",
)

urlpatterns = [
    path("", views.index, name="index"),
    path("accounts/", include(accounts)),
    path("admin/", admin.site.urls),
    re_path(
        r"^completion-aggregator/",
        include(("completion_aggregator.urls", "completion_aggregator"), namespace="completion_aggregator"),
    ),
]
