"""v1 REST URLs."""
urlpatterns = []
