from django.contrib import admin
from django.urls import path

from demo.counter.views import counter
from demo.playground.views import playground
from demo.todos.views import TodoListView

urlpatterns = [
    path("", counter, name="counter"),
    path("todos/", TodoListView.as_view(), name="todos"),
    path("playground/", playground, name="playground"),
    path("admin/", admin.site.urls),
]
