"""Support pages, mounted at /support/."""

from django.urls import path

from guanai.support import views

app_name = "support"

urlpatterns = [
    path("", views.index, name="index"),
    path("children/<int:pk>/", views.child_support, name="child"),
    path("children/<int:pk>/assess/", views.assess, name="assess"),
    path("children/<int:pk>/refer/", views.child_refer, name="refer"),
    path("children/<int:pk>/needs/", views.child_need_add, name="need-add"),
    path("children/<int:pk>/needs/refresh/", views.child_needs_refresh, name="needs-refresh"),
    path("children/<int:pk>/benefits/", views.child_benefit_add, name="benefit-add"),
    path("children/<int:pk>/plan/", views.plan_new, name="plan-new"),
    path("benefits/<int:pk>/end/", views.benefit_end_view, name="benefit-end"),
    path("needs/<int:pk>/<slug:action>/", views.need_action, name="need-action"),
    path("referrals/<int:pk>/cancel/", views.referral_cancel_view, name="referral-cancel"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/<slug:action>/", views.plan_action, name="plan-action"),
    path("plan-actions/<int:pk>/", views.plan_action_status, name="plan-action-status"),
    path("provider/", views.provider_home, name="provider"),
    path("provider/referrals/<int:pk>/<slug:action>/", views.provider_referral, name="provider-referral"),
    path("provider/postings/<int:pk>/take/", views.provider_take, name="provider-take"),
    path("services/", views.services, name="services"),
    path("services/new/", views.service_new, name="service-new"),
    path("providers/new/", views.provider_new, name="provider-new"),
    path("providers/members/new/", views.provider_member_new, name="provider-member-new"),
    path("standards/", views.standards, name="standards"),
    path("activities/", views.activities, name="activities"),
    path("activities/<int:pk>/", views.activity_detail, name="activity"),
]
