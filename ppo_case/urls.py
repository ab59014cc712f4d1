from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from access import api_client_views, two_factor_views
from access import views as access_views

from . import health, home

admin.site.site_header = "PPO Case administration"
admin.site.site_title = "PPO Case administration"

urlpatterns = [
    path("", home.home, name="home"),
    # Answered by ppo_case.health.HealthCheckMiddleware before the rest; here for reverse().
    path("healthz", health.healthz, name="healthz"),
    path("sign-in/", two_factor_views.SignInView.as_view(), name="login"),
    path("sign-in/code/", two_factor_views.sign_in_code, name="sign-in-code"),
    path("sign-in/recovery-code/", two_factor_views.sign_in_recovery, name="sign-in-recovery"),
    path("two-factor/", two_factor_views.two_factor_manage, name="two-factor"),
    path("two-factor/set-up/", two_factor_views.two_factor_set_up, name="two-factor-set-up"),
    path(
        "two-factor/recovery-codes/",
        two_factor_views.recovery_codes_new,
        name="two-factor-recovery-codes",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", access_views.audit_log, name="audit-log"),
    path("api-clients/", api_client_views.api_client_index, name="api-clients"),
    path("api-clients/new/", api_client_views.api_client_new, name="api-client-new"),
    path(
        "api-clients/<int:pk>/revoke/",
        api_client_views.api_client_revoke_view,
        name="api-client-revoke",
    ),
    path("people/", include("offenders.urls")),
    path("selection/", include("selection.urls")),
    path("conferences/", include("conferences.urls")),
    path("pathways/", include("pathways.urls")),
    path("reports/", include("reporting.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("ppo_case.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from its own URL (no inline
    # script), with templates/drf_spectacular/swagger_ui.html (no inline style): the CSP holds.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler403 = "access.views.permission_denied"
handler404 = "access.views.page_not_found"
handler500 = "access.views.server_error"
