from django.apps import AppConfig


class ServicerequestsConfig(AppConfig):
    name = "servicerequests"
    verbose_name = "Service requests"
