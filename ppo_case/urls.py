from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from access import api_client_views
from access import views as access_views

from . import home

admin.site.site_header = "PPO Case administration"
admin.site.site_title = "PPO Case administration"

urlpatterns = [
    path("", home.home, name="home"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
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
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler403 = "access.views.permission_denied"
handler404 = "access.views.page_not_found"
handler500 = "access.views.server_error"
