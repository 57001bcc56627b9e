from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from xiaobao.accounts import access
from xiaobao.imports.models import ImportBatch


@login_required
def batch_index(request):
    access.require_import(request.user)
    batches = access.scope(ImportBatch.objects.select_related("unit"), request.user)
    page = Paginator(batches, 50).get_page(request.GET.get("page"))
    return render(request, "imports/batches.html", {"page": page})
