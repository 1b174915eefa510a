from django.urls import include, path

urlpatterns = [
    path("api/v1/protection/", include("guanai.protection.api_urls")),
    path("api/v1/support/", include("guanai.support.api_urls")),
    path("api/", include("guanai.api.urls")),
    path("jobs/", include("guanai.jobs.urls")),
    path("visits/", include("guanai.visits.urls")),
    path("protection/", include("guanai.protection.urls")),
    path("support/", include("guanai.support.urls")),
    path("oversight/", include("guanai.oversight.urls")),
    path("workforce/", include("guanai.workforce.urls")),
    path("children/", include("guanai.registry.import_urls")),
    path("discovery/", include("guanai.discovery.urls")),
    path("users/", include("guanai.accounts.urls")),
    path("", include("guanai.web.urls")),
]

handler400 = "guanai.web.views.error_400"
handler403 = "guanai.web.views.error_403"
handler404 = "guanai.web.views.error_404"
handler500 = "guanai.web.views.error_500"
