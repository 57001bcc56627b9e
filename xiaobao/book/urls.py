from django.urls import path

from xiaobao.book import views

urlpatterns = [
    path("", views.book_index, name="book-index"),
    path("import/", views.book_import, name="book-import"),
    path("import/<int:pk>/", views.book_import_job, name="book-import-job"),
    path("import/<int:pk>/errors/", views.book_import_errors, name="book-import-errors"),
    path("<str:table>/", views.book_table, name="book-table"),
]
