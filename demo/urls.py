from django.contrib import admin
from django.urls import path

from demo.chat.views import lobby
from demo.counter.views import counter
from demo.jobs.views import jobs
from demo.playground.views import playground
from demo.todos.views import TodoListView

urlpatterns = [
    path("", counter, name="counter"),
    path("todos/", TodoListView.as_view(), name="todos"),
    path("playground/", playground, name="playground"),
    path("chat/", lobby, name="chat"),
    path("jobs/", jobs, name="jobs"),
    path("admin/", admin.site.urls),
]
