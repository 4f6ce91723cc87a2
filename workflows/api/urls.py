from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import views, work

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("process-definitions/", views.DefinitionListView.as_view(), name="api-definitions"),
    path("process-definitions/startable/", work.StartableView.as_view(), name="api-startable"),
    path("process-definitions/<int:pk>/xml/", work.DefinitionXmlView.as_view()),
    path("process-definitions/<str:key>/statistics/", work.DefinitionStatisticsView.as_view()),
    path("process-instances/", views.InstanceStartView.as_view(), name="api-instances"),
    path("process-instances/search/", work.InstanceSearchView.as_view(), name="api-search"),
    path("process-instances/<int:pk>/documents/", work.InstanceDocumentsView.as_view()),
    path("documents/<int:pk>/", work.DocumentView.as_view(), name="api-document"),
    path("process-instances/<int:pk>/", views.InstanceDetailView.as_view(), name="api-instance"),
    path(
        "process-instances/<int:pk>/history/",
        views.InstanceHistoryView.as_view(),
        name="api-instance-history",
    ),
    path(
        "process-instances/<int:pk>/history/export/",
        views.InstanceHistoryExportView.as_view(),
        name="api-instance-history-export",
    ),
    path("process-instances/<int:pk>/suspend/", views.InstanceSuspendView.as_view()),
    path("process-instances/<int:pk>/resume/", views.InstanceResumeView.as_view()),
    path("process-instances/<int:pk>/retry/", views.InstanceRetryView.as_view()),
    path("process-instances/<int:pk>/terminate/", views.InstanceTerminateView.as_view()),
    path("messages/", views.MessageView.as_view(), name="api-messages"),
    path("signals/", views.SignalView.as_view(), name="api-signals"),
    path("tasks/", views.TaskListView.as_view(), name="api-tasks"),
    path("tasks/counts/", work.TaskCountsView.as_view(), name="api-task-counts"),
    path("tasks/<int:pk>/draft/", work.TaskDraftView.as_view(), name="api-task-draft"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="api-task"),
    path("tasks/<int:pk>/claim/", views.TaskClaimView.as_view(), name="api-task-claim"),
    path("tasks/<int:pk>/unclaim/", views.TaskUnclaimView.as_view(), name="api-task-unclaim"),
    path("tasks/<int:pk>/complete/", views.TaskCompleteView.as_view(), name="api-task-complete"),
]
