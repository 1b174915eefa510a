"""Support API, mounted at /api/v1/support/."""

from django.urls import path

from guanai.support import api

app_name = "support_api"

urlpatterns = [
    path("instrument/", api.InstrumentView.as_view(), name="instrument"),
    path("children/<int:pk>/needs/", api.ChildNeedsView.as_view(), name="child-needs"),
    path("children/<int:pk>/assessments/", api.ChildAssessmentsView.as_view(), name="child-assessments"),
    path("children/<int:pk>/benefits/", api.ChildBenefitsView.as_view(), name="child-benefits"),
    path("children/<int:pk>/matches/", api.ChildMatchesView.as_view(), name="child-matches"),
    path("children/<int:pk>/plan/", api.ChildPlanView.as_view(), name="child-plan"),
    path("benefits/<int:pk>/end/", api.BenefitEndView.as_view(), name="benefit-end"),
    path("standards/", api.StandardsView.as_view(), name="standards"),
    path("providers/", api.ProvidersView.as_view(), name="providers"),
    path("providers/<int:pk>/members/", api.ProviderMembersView.as_view(), name="provider-members"),
    path("services/", api.ServicesView.as_view(), name="services"),
    path("referrals/", api.ReferralsView.as_view(), name="referrals"),
    path("referrals/<int:pk>/", api.ReferralDetailView.as_view(), name="referral"),
    path("referrals/<int:pk>/respond/", api.ReferralRespondView.as_view(), name="referral-respond"),
    path("referrals/<int:pk>/deliver/", api.ReferralDeliverView.as_view(), name="referral-deliver"),
    path("referrals/<int:pk>/cancel/", api.ReferralCancelView.as_view(), name="referral-cancel"),
    path("needs/<int:pk>/post/", api.NeedPostView.as_view(), name="need-post"),
    path("postings/", api.PostingsView.as_view(), name="postings"),
    path("postings/<int:pk>/take/", api.PostingTakeView.as_view(), name="posting-take"),
    path("plans/batch/", api.PlansBatchView.as_view(), name="plans-batch"),
    path("plans/<int:pk>/actions/", api.PlanActionsView.as_view(), name="plan-actions"),
    path("plans/<int:pk>/activate/", api.PlanActivateView.as_view(), name="plan-activate"),
    path("plans/<int:pk>/review/", api.PlanReviewView.as_view(), name="plan-review"),
    path("plan-actions/<int:pk>/", api.PlanActionUpdateView.as_view(), name="plan-action"),
    path("activities/", api.ActivitiesView.as_view(), name="activities"),
    path("activities/<int:pk>/invite/", api.ActivityInviteView.as_view(), name="activity-invite"),
    path("activities/<int:pk>/attendance/", api.ActivityAttendanceView.as_view(), name="activity-attendance"),
]
