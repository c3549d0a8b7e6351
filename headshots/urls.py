app_name = "headshots"

urlpatterns: list = []
